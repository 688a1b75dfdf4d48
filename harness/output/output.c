#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int zz_temp_name(const char *path, char *tmp, size_t size, zz_error *err) {
    if (snprintf(tmp, size, "%s.tmp", path) >= (int)size)
        return zz_errorf(err, "cannot write %.200s...: path too long", path);
    return 0;
}

int zz_check_writable(const char *path, zz_error *err) {
    char tmp[4096];
    struct stat st;
    if (zz_temp_name(path, tmp, sizeof tmp, err)) return -1;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return zz_errorf(err, "cannot write %s: %s", path, strerror(EISDIR));
    FILE *f = fopen(tmp, "wb");
    if (!f) return zz_errorf(err, "cannot write %s: %s", path, strerror(errno));
    fclose(f);
    unlink(tmp);
    return 0;
}

int zz_replace_with_temp(const char *path, zz_error *err) {
    char tmp[4096];
    if (zz_temp_name(path, tmp, sizeof tmp, err)) return -1;
    /* fsync before rename: otherwise a power cut can leave the new name on
     * a file whose data never reached the disk. */
    int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        int saved = errno;
        if (fd >= 0) close(fd);
        unlink(tmp);
        return zz_errorf(err, "cannot write %s: %s", tmp, strerror(saved));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return zz_errorf(err, "cannot replace %s with %s: %s", path, tmp, strerror(saved));
    }
    return 0;
}

int zz_write_file(const char *path, const char *data, size_t len, zz_error *err) {
    char tmp[4096];
    if (zz_temp_name(path, tmp, sizeof tmp, err)) return -1;
    FILE *f = fopen(tmp, "wb");
    if (!f) return zz_errorf(err, "cannot write %s: %s", tmp, strerror(errno));
    int failed = fwrite(data, 1, len, f) != len || fflush(f) != 0;
    int saved = errno;
    if (fclose(f) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (failed) {
        unlink(tmp);
        return zz_errorf(err, "cannot write %s: %s", tmp, strerror(saved));
    }
    return zz_replace_with_temp(path, err);
}

static int stdout_failed(int saved, zz_error *err) {
    /* An earlier failed write leaves no errno behind. */
    return zz_errorf(err, "cannot write the standard output: %s", saved ? strerror(saved) : "a write failed");
}

int zz_flush_stdout(zz_error *err) {
    const int failed_before = ferror(stdout);
    if (fflush(stdout) != 0) return stdout_failed(errno, err);
    return failed_before ? stdout_failed(0, err) : 0;
}

int zz_close_stdout(zz_error *err) {
    if (zz_flush_stdout(err)) return -1;
    return fclose(stdout) != 0 ? stdout_failed(errno, err) : 0;
}

static void fault(zz_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fault(zz_text *t, const char *fmt, ...) {
    if (t->fault[0]) return;  /* the first problem explains the rest */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->fault, sizeof t->fault, fmt, ap);
    va_end(ap);
}

static void put_bytes(zz_text *t, const char *s, size_t n) {
    if (t->fault[0]) return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (t->len + n + 1 > cap) cap *= 2;
        char *grown = realloc(t->data, cap);
        if (!grown) {
            fault(t, "out of memory at %zu bytes", t->len);
            return;
        }
        t->data = grown;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static void put(zz_text *t, const char *s) { put_bytes(t, s, strlen(s)); }

static int write_text(const zz_text *t, const char *path, zz_error *err) {
    if (t->fault[0]) return zz_errorf(err, "not writing %s: %s", path, t->fault);
    return zz_write_file(path, t->data ? t->data : "", t->len, err);
}

static void free_text(zz_text *t) {
    free(t->data);
    *t = (zz_text){0};
}

/* Empty for a non-finite number: the caller says what that means. */
static void format_number(char *buf, size_t size, double v) {
    buf[0] = '\0';
    if (!isfinite(v)) return;
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) return;
    }
}

static void csv_begin_field(zz_csv *c) {
    if (c->fields++) put(&c->text, ",");
}

void zz_csv_str(zz_csv *c, const char *s) {
    csv_begin_field(c);
    if (!strpbrk(s, ",\"\r\n")) {
        put(&c->text, s);
        return;
    }
    put(&c->text, "\"");
    for (const char *quote; (quote = strchr(s, '"')); s = quote + 1) {
        put_bytes(&c->text, s, quote - s);
        put(&c->text, "\"\"");
    }
    put(&c->text, s);
    put(&c->text, "\"");
}

void zz_csv_num(zz_csv *c, double v) {
    char buf[32];
    format_number(buf, sizeof buf, v);
    csv_begin_field(c);
    put(&c->text, buf);
}

void zz_csv_int(zz_csv *c, long long v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    csv_begin_field(c);
    put(&c->text, buf);
}

void zz_csv_end_row(zz_csv *c) {
    if (c->rows == 0) c->columns = c->fields;
    else if (c->fields != c->columns)
        fault(&c->text, "csv row %d has %d fields, the header %d", c->rows, c->fields, c->columns);
    put(&c->text, "\n");
    c->rows++;
    c->fields = 0;
}

int zz_csv_write(const zz_csv *c, const char *path, zz_error *err) {
    if (c->fields) return zz_errorf(err, "not writing %s: csv row %d is not finished", path, c->rows);
    return write_text(&c->text, path, err);
}

void zz_csv_free(zz_csv *c) {
    free_text(&c->text);
    *c = (zz_csv){0};
}

static void json_newline(zz_json *j, int depth) {
    put(&j->text, "\n");
    for (int i = 0; i < depth; i++) put(&j->text, "  ");
}

/* Separator and indent before a member key or an array element. */
static void json_next_item(zz_json *j) {
    if (j->has_items[j->depth - 1]) put(&j->text, ",");
    json_newline(j, j->depth);
    j->has_items[j->depth - 1] = 1;
}

static void json_begin_value(zz_json *j) {
    if (j->depth == 0) {
        if (j->complete) fault(&j->text, "json: a second top-level value");
    } else if (j->is_object[j->depth - 1]) {
        if (!j->after_key) fault(&j->text, "json: a value in an object without its key");
        j->after_key = 0;
    } else {
        json_next_item(j);
    }
}

static void json_end_value(zz_json *j) {
    if (j->depth == 0) {
        j->complete = 1;
        put(&j->text, "\n");
    }
}

static void json_quoted(zz_json *j, const char *s) {
    static const char short_escapes[] = {['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};
    put(&j->text, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') snprintf(esc, sizeof esc, "\\%c", *p);
        else if (*p < sizeof short_escapes && short_escapes[*p]) snprintf(esc, sizeof esc, "\\%c", short_escapes[*p]);
        else if (*p < 0x20) snprintf(esc, sizeof esc, "\\u%04x", *p);
        else {
            put_bytes(&j->text, (const char *)p, 1);
            continue;
        }
        put(&j->text, esc);
    }
    put(&j->text, "\"");
}

static void json_open(zz_json *j, int is_object) {
    json_begin_value(j);
    if (j->depth == ZZ_JSON_MAX_DEPTH) {
        fault(&j->text, "json: nested deeper than %d", ZZ_JSON_MAX_DEPTH);
        return;
    }
    put(&j->text, is_object ? "{" : "[");
    j->is_object[j->depth] = (unsigned char)is_object;
    j->has_items[j->depth] = 0;
    j->depth++;
}

void zz_json_object(zz_json *j) { json_open(j, 1); }
void zz_json_array(zz_json *j) { json_open(j, 0); }

void zz_json_end(zz_json *j) {
    if (j->depth == 0 || j->after_key) {
        fault(&j->text, j->depth ? "json: object closed after a key without its value"
                                 : "json: end without an open object or array");
        return;
    }
    j->depth--;
    if (j->has_items[j->depth]) json_newline(j, j->depth);
    put(&j->text, j->is_object[j->depth] ? "}" : "]");
    json_end_value(j);
}

void zz_json_key(zz_json *j, const char *key) {
    if (j->depth == 0 || !j->is_object[j->depth - 1] || j->after_key) {
        fault(&j->text, "json: key \"%.60s\" %s", key, j->after_key ? "right after another key" : "outside an object");
        return;
    }
    json_next_item(j);
    json_quoted(j, key);
    put(&j->text, ": ");
    j->after_key = 1;
}

/* Scalars: the text of the value between begin and end. */
static void json_scalar(zz_json *j, const char *text) {
    json_begin_value(j);
    put(&j->text, text);
    json_end_value(j);
}

void zz_json_str(zz_json *j, const char *s) {
    json_begin_value(j);
    json_quoted(j, s);
    json_end_value(j);
}

void zz_json_num(zz_json *j, double v) {
    char buf[32];
    format_number(buf, sizeof buf, v);
    json_scalar(j, buf[0] ? buf : "null");
}

void zz_json_int(zz_json *j, long long v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    json_scalar(j, buf);
}

void zz_json_bool(zz_json *j, int v) { json_scalar(j, v ? "true" : "false"); }
void zz_json_null(zz_json *j) { json_scalar(j, "null"); }

int zz_json_write(const zz_json *j, const char *path, zz_error *err) {
    if (!j->text.fault[0] && !j->complete)
        return zz_errorf(err, "not writing %s: json value not finished (%d open)", path, j->depth);
    return write_text(&j->text, path, err);
}

void zz_json_free(zz_json *j) {
    free_text(&j->text);
    *j = (zz_json){0};
}
