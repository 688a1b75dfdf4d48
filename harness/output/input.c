/* Input files (input.h). */
#include "input.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

/* ------------------------------------------------------------ files ---- */

/* Anything far larger than a pattern or a run's results is not one, and
 * must not be read into memory whole. */
#define MAX_FILE_BYTES (16u << 20)

char *zz_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    int error = buf ? 0 : ENOMEM;
    while (!error) {
        n += fread(buf + n, 1, cap - 1 - n, f);
        if (ferror(f)) error = errno;
        if (error || feof(f)) break;
        char *grown = cap < MAX_FILE_BYTES ? realloc(buf, cap * 2) : NULL;
        if (!grown) error = cap < MAX_FILE_BYTES ? ENOMEM : EFBIG;
        else buf = grown, cap *= 2;
    }
    fclose(f);
    if (error) {
        free(buf);
        errno = error;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int zz_join_path(char *out, size_t size, const char *dir, const char *file, zz_error *err) {
    size_t dir_len = strlen(dir);
    while (dir_len > 1 && dir[dir_len - 1] == '/') dir_len--;
    if ((size_t)snprintf(out, size, "%.*s/%s", (int)dir_len, dir, file) >= size)
        return zz_errorf(err, "folder path too long: %.64s...", dir);
    return 0;
}

/* The file whole, or NULL with the reason in err. */
static char *read_text(const char *path, size_t *len, zz_error *err) {
    char *text = zz_read_file(path, len);
    if (!text) zz_errorf(err, "%s: cannot read: %s", path, strerror(errno));
    return text;
}

/* Room for item n in the array whose pointer is at array_ptr (any object
 * pointer type; copied with memcpy, so no aliasing rule is bent), elements
 * of size elem, capacity *cap; -1 out of memory, the array untouched. */
static int reserve(void *array_ptr, int n, int *cap, size_t elem) {
    if (n < *cap) return 0;
    void *items, *grown;
    memcpy(&items, array_ptr, sizeof items);
    const int new_cap = *cap ? 2 * *cap : 64;
    if (!(grown = realloc(items, (size_t)new_cap * elem))) return -1;
    memcpy(array_ptr, &grown, sizeof grown);
    *cap = new_cap;
    return 0;
}

/* -------------------------------------------------------------- CSV ---- */

int zz_csv_parse(const char *name, const char *text, size_t len, zz_csv_table *out, zz_error *err) {
    *out = (zz_csv_table){0};
    if (len == 0) return zz_errorf(err, "%s: empty file", name);
    if (memchr(text, '\0', len)) return zz_errorf(err, "%s: holds a NUL byte: not a CSV file", name);
    char *o = out->text = malloc(len + 1);
    int n_cells = 0, cap_cells = 0, cap_rows = 0, line = 1;
    if (!o) goto out_of_memory;
    for (size_t i = 0; i < len;) {
        if (reserve(&out->lines, out->rows, &cap_rows, sizeof *out->lines)) goto out_of_memory;
        out->lines[out->rows] = line;
        int fields = 0;
        for (;;) {
            if (reserve(&out->cells, n_cells, &cap_cells, sizeof *out->cells)) goto out_of_memory;
            out->cells[n_cells++] = o;
            fields++;
            const int quoted = i < len && text[i] == '"', field_line = line;
            if (quoted) {
                for (i++;; i++) {
                    if (i == len) {
                        zz_errorf(err, "%s line %d: a quoted field never closes: a torn file", name, field_line);
                        goto fail;
                    }
                    if (text[i] == '"' && (i + 1 == len || text[i + 1] != '"')) break;
                    if (text[i] == '"') i++;  /* a doubled quote stands for one */
                    line += text[i] == '\n';
                    *o++ = text[i];
                }
                i++;
            } else {
                for (; i < len && !strchr(",\r\n", text[i]); i++) {
                    if (text[i] == '"') {
                        zz_errorf(err, "%s line %d: a quote inside an unquoted field", name, line);
                        goto fail;
                    }
                    *o++ = text[i];
                }
            }
            *o++ = '\0';
            if (i == len) {
                zz_errorf(err, "%s line %d: the last row has no line end: a torn file", name, line);
                goto fail;
            }
            if (text[i] == ',') {
                i++;
                continue;
            }
            if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') i++;
            if (text[i] == '\n') break;
            zz_errorf(err, "%s line %d: %s", name, line,
                      quoted ? "text after a quoted field's closing quote" : "a carriage return without its line feed");
            goto fail;
        }
        i++;
        line++;
        if (out->rows == 0) out->columns = fields;
        else if (fields != out->columns) {
            zz_errorf(err, "%s line %d: %d fields, the header has %d", name, out->lines[out->rows], fields,
                      out->columns);
            goto fail;
        }
        out->rows++;
    }
    return 0;
out_of_memory:
    zz_errorf(err, "%s: out of memory reading it", name);
fail:
    zz_csv_table_free(out);
    return -1;
}

int zz_csv_read(const char *path, zz_csv_table *out, zz_error *err) {
    size_t len;
    char *text = read_text(path, &len, err);
    int rc = text ? zz_csv_parse(path, text, len, out, err) : -1;
    free(text);
    return rc;
}

int zz_csv_column(const zz_csv_table *t, const char *name) {
    for (int c = 0; t->rows > 0 && c < t->columns; c++)
        if (strcmp(t->cells[c], name) == 0) return c;
    return -1;
}

const char *zz_csv_cell(const zz_csv_table *t, int row, int column) { return t->cells[row * t->columns + column]; }

void zz_csv_table_free(zz_csv_table *t) {
    free(t->cells);
    free(t->lines);
    free(t->text);
    *t = (zz_csv_table){0};
}

/* ------------------------------------------------------------- JSON ---- */

typedef struct {
    const char *s;
    size_t len, i;
    int line;
    zz_json_doc *doc;
    zz_error *err;
    char path[256];  /* of the value being read */
    size_t path_len;
} json_reader;

static int json_fail(json_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int json_fail(json_reader *r, const char *fmt, ...) {
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return zz_errorf(r->err, "%s line %d: %s", r->doc->name, r->line, what);
}

static void json_space(json_reader *r) {
    for (; r->i < r->len && strchr(" \t\r\n", r->s[r->i]); r->i++) r->line += r->s[r->i] == '\n';
}

/* The next byte, or 0 at the end (the text holds no NUL: see zz_json_parse). */
static char json_peek(const json_reader *r) { return r->i < r->len ? r->s[r->i] : '\0'; }

static int json_leaf(json_reader *r, zz_json_kind kind, double number, char *string) {
    if (zz_json_find(r->doc, r->path)) {
        free(string);
        return json_fail(r, "%s appears twice", r->path);
    }
    zz_json_doc *d = r->doc;
    char *path = strdup(r->path);
    if (!path || reserve(&d->leaves, d->n, &d->cap, sizeof *d->leaves)) {
        free(path);
        free(string);
        return json_fail(r, "out of memory");
    }
    d->leaves[d->n++] = (zz_json_leaf){path, kind, number, string, r->line};
    return 0;
}

static int hex4(json_reader *r, unsigned *out) {
    *out = 0;
    for (int k = 0; k < 4; k++, r->i++) {
        const char c = json_peek(r);
        const char *digits = "0123456789abcdef", *at = c ? strchr(digits, c | 0x20) : NULL;
        if (!at) return json_fail(r, "\\u needs four hex digits");
        *out = *out * 16 + (unsigned)(at - digits);
    }
    return 0;
}

static char *put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) *o++ = (char)cp;
    else if (cp < 0x800) *o++ = (char)(0xC0 | cp >> 6), *o++ = (char)(0x80 | (cp & 0x3F));
    else if (cp < 0x10000)
        *o++ = (char)(0xE0 | cp >> 12), *o++ = (char)(0x80 | (cp >> 6 & 0x3F)), *o++ = (char)(0x80 | (cp & 0x3F));
    else
        *o++ = (char)(0xF0 | cp >> 18), *o++ = (char)(0x80 | (cp >> 12 & 0x3F)),
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F)), *o++ = (char)(0x80 | (cp & 0x3F));
    return o;
}

/* One \uXXXX escape, or a surrogate pair of two, after its backslash and u. */
static int json_unicode(json_reader *r, unsigned *cp) {
    if (hex4(r, cp)) return -1;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF) return json_fail(r, "a low surrogate \\u%04X without its high one", *cp);
    if (*cp >= 0xD800 && *cp <= 0xDBFF) {
        unsigned low;
        if (json_peek(r) != '\\' || r->i + 1 >= r->len || r->s[r->i + 1] != 'u')
            return json_fail(r, "a high surrogate \\u%04X without its low one", *cp);
        r->i += 2;
        if (hex4(r, &low)) return -1;
        if (low < 0xDC00 || low > 0xDFFF) return json_fail(r, "a high surrogate \\u%04X without its low one", *cp);
        *cp = 0x10000 + ((*cp - 0xD800) << 10) + (low - 0xDC00);
    }
    if (*cp == 0) return json_fail(r, "\\u0000 inside a string");
    return 0;
}

/* The string at r->i (its opening quote), decoded into *out (free() it). */
static int json_string(json_reader *r, char **out) {
    size_t end = r->i + 1;
    while (end < r->len && r->s[end] != '"') end += r->s[end] == '\\' ? 2 : 1;
    if (end >= r->len) return json_fail(r, "a string never closes");
    char *o = *out = malloc(end - r->i);  /* decoding never lengthens */
    if (!o) return json_fail(r, "out of memory");
    static const char escapes[] = "\"\"\\\\//b\bf\fn\nr\rt\t";  /* pairs: the letter, the byte it stands for */
    for (r->i++; r->s[r->i] != '"';) {
        const unsigned char c = (unsigned char)r->s[r->i++];
        if (c < 0x20) {
            r->i--;
            free(*out);
            return json_fail(r, "a control character inside a string: escape it");
        }
        if (c != '\\') {
            *o++ = (char)c;
            continue;
        }
        const char e = r->s[r->i++];
        const char *pair = e ? strchr(escapes, e) : NULL;
        unsigned cp;
        if (pair && (pair - escapes) % 2 == 0) *o++ = pair[1];
        else if (e == 'u' && json_unicode(r, &cp) == 0) o = put_utf8(o, cp);
        else {
            free(*out);
            return e == 'u' ? -1 : json_fail(r, "unknown escape \\%c", e);
        }
    }
    r->i++;
    *o = '\0';
    return 0;
}

static int json_digits(json_reader *r) {
    const size_t start = r->i;
    while (json_peek(r) >= '0' && json_peek(r) <= '9') r->i++;
    return r->i > start;
}

/* RFC 8259's grammar, checked before strtod (which takes more: hex, inf). */
static int json_number(json_reader *r) {
    const size_t start = r->i;
    if (json_peek(r) == '-') r->i++;
    int ok = json_peek(r) == '0' ? (r->i++, 1) : json_digits(r);
    if (ok && json_peek(r) == '.') r->i++, ok = json_digits(r);
    if (ok && (json_peek(r) == 'e' || json_peek(r) == 'E')) {
        r->i++;
        if (json_peek(r) == '+' || json_peek(r) == '-') r->i++;
        ok = json_digits(r);
    }
    char text[64];
    const size_t n = r->i - start;
    if (!ok || n >= sizeof text) return json_fail(r, "a malformed number");
    memcpy(text, r->s + start, n);
    text[n] = '\0';
    const double v = strtod(text, NULL);
    if (!isfinite(v)) return json_fail(r, "number %s out of range", text);
    return json_leaf(r, ZZ_JSON_NUMBER, v, NULL);
}

static int json_value(json_reader *r, int depth);

/* Appends ".name" (or "name" at the top) to the path. */
static int json_path_push(json_reader *r, const char *name) {
    const size_t left = sizeof r->path - r->path_len;
    const int n = snprintf(r->path + r->path_len, left, "%s%s", r->path_len ? "." : "", name);
    if (n < 0 || (size_t)n >= left) return json_fail(r, "a key path longer than %zu bytes", sizeof r->path - 1);
    r->path_len += (size_t)n;
    return 0;
}

static int json_container(json_reader *r, int is_object, int depth) {
    const char close = is_object ? '}' : ']';
    r->i++;
    json_space(r);
    if (json_peek(r) == close) {
        r->i++;
        return 0;
    }
    for (int index = 0;; index++) {
        const size_t outer = r->path_len;
        char number[16], *key = NULL;
        if (is_object) {
            json_space(r);
            if (json_peek(r) != '"') return json_fail(r, "expected a key in quotes");
            if (json_string(r, &key)) return -1;
            json_space(r);
            if (json_peek(r) != ':') {
                free(key);
                return json_fail(r, "expected ':' after a key");
            }
            r->i++;
        } else {
            snprintf(number, sizeof number, "%d", index);
        }
        const int rc = json_path_push(r, key ? key : number);
        free(key);
        if (rc || json_value(r, depth)) return -1;
        r->path_len = outer;
        r->path[outer] = '\0';
        json_space(r);
        const char next = json_peek(r);
        r->i++;
        if (next == close) return 0;
        if (next != ',') {
            r->i--;
            return json_fail(r, "expected ',' or '%c'", close);
        }
    }
}

static int json_value(json_reader *r, int depth) {
    json_space(r);
    static const struct {
        const char *text;
        zz_json_kind kind;
        double number;
    } literals[] = {{"true", ZZ_JSON_BOOL, 1}, {"false", ZZ_JSON_BOOL, 0}, {"null", ZZ_JSON_NULL, 0}};
    const char c = json_peek(r);
    if (c == '{' || c == '[') {
        if (depth == ZZ_JSON_MAX_DEPTH) return json_fail(r, "nested deeper than %d", ZZ_JSON_MAX_DEPTH);
        return json_container(r, c == '{', depth + 1);
    }
    if (c == '"') {
        char *s;
        return json_string(r, &s) || json_leaf(r, ZZ_JSON_STRING, 0, s) ? -1 : 0;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return json_number(r);
    for (size_t k = 0; k < sizeof literals / sizeof literals[0]; k++) {
        const size_t n = strlen(literals[k].text);
        if (r->len - r->i >= n && memcmp(r->s + r->i, literals[k].text, n) == 0) {
            r->i += n;
            return json_leaf(r, literals[k].kind, literals[k].number, NULL);
        }
    }
    return c ? json_fail(r, "unexpected '%c' where a value belongs", c)
             : json_fail(r, "the text ends where a value belongs");
}

int zz_json_parse(const char *name, const char *text, size_t len, zz_json_doc *out, zz_error *err) {
    *out = (zz_json_doc){0};
    snprintf(out->name, sizeof out->name, "%s", name);
    if (memchr(text, '\0', len)) return zz_errorf(err, "%s: holds a NUL byte: not a JSON file", name);
    json_reader r = {.s = text, .len = len, .line = 1, .doc = out, .err = err};
    if (json_value(&r, 0) == 0) {
        json_space(&r);
        if (r.i == r.len) return 0;
        json_fail(&r, "text after the JSON value");
    }
    zz_json_doc_free(out);
    return -1;
}

int zz_json_read(const char *path, zz_json_doc *out, zz_error *err) {
    size_t len;
    char *text = read_text(path, &len, err);
    int rc = text ? zz_json_parse(path, text, len, out, err) : -1;
    free(text);
    return rc;
}

const zz_json_leaf *zz_json_find(const zz_json_doc *d, const char *path) {
    for (int k = 0; k < d->n; k++)
        if (strcmp(d->leaves[k].path, path) == 0) return &d->leaves[k];
    return NULL;
}

/* The leaf at path if it is of kind (a number also when null), else NULL
 * and the error says what was expected. */
static const zz_json_leaf *json_get(const zz_json_doc *d, const char *path, zz_json_kind kind, const char *expected,
                                    zz_error *err) {
    const zz_json_leaf *l = zz_json_find(d, path);
    if (!l) zz_errorf(err, "%s: no %s", d->name, path);
    else if (l->kind != kind && !(kind == ZZ_JSON_NUMBER && l->kind == ZZ_JSON_NULL))
        zz_errorf(err, "%s line %d: %s: expected %s", d->name, l->line, path, expected);
    else return l;
    return NULL;
}

int zz_json_get_string(const zz_json_doc *d, const char *path, char *out, size_t size, zz_error *err) {
    const zz_json_leaf *l = json_get(d, path, ZZ_JSON_STRING, "a string", err);
    if (!l) return -1;
    if (strlen(l->string) >= size)
        return zz_errorf(err, "%s line %d: %s: longer than %zu bytes", d->name, l->line, path, size - 1);
    memcpy(out, l->string, strlen(l->string) + 1);
    return 0;
}

int zz_json_get_number(const zz_json_doc *d, const char *path, double *out, zz_error *err) {
    const zz_json_leaf *l = json_get(d, path, ZZ_JSON_NUMBER, "a number", err);
    if (!l) return -1;
    *out = l->kind == ZZ_JSON_NULL ? NAN : l->number;
    return 0;
}

int zz_json_get_whole(const zz_json_doc *d, const char *path, long long min, long long max, long long *out,
                      zz_error *err) {
    const zz_json_leaf *l = zz_json_find(d, path);
    const double v = l && l->kind == ZZ_JSON_NUMBER ? l->number : NAN;
    if (!(v >= (double)min && v <= (double)max && v == floor(v))) {
        if (!l) return zz_errorf(err, "%s: no %s", d->name, path);
        return zz_errorf(err, "%s line %d: %s: expected a whole number from %lld to %lld", d->name, l->line, path,
                         min, max);
    }
    *out = (long long)v;
    return 0;
}

int zz_json_get_bool(const zz_json_doc *d, const char *path, int *out, zz_error *err) {
    const zz_json_leaf *l = json_get(d, path, ZZ_JSON_BOOL, "true or false", err);
    if (!l) return -1;
    *out = l->number != 0;
    return 0;
}

void zz_json_doc_free(zz_json_doc *d) {
    for (int k = 0; k < d->n; k++) {
        free(d->leaves[k].path);
        free(d->leaves[k].string);
    }
    free(d->leaves);
    *d = (zz_json_doc){0};
}
