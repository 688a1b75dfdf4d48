/* CSV and JSON writers read back by small parsers of the two formats, with
 * nasty strings; whole-file writes replace, leave no temporary behind, and
 * fail with the path and the reason; a check before the work leaves nothing;
 * a temporary written by someone else is published whole; a standard output
 * that cannot be written is reported. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "output.h"

static void expect_message(const zz_error *err, const char *needle) {
    if (!strstr(err->msg, needle)) fail_msg("message '%s' lacks '%s'", err->msg, needle);
    assert_null(strchr(err->msg, '\n'));
}

/* ---- a scratch directory per test ---- */

static int make_dir(void **state) {
    static char dir[64];
    strcpy(dir, "/tmp/zz-test-output-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    *state = dir;
    return 0;
}

static int remove_dir(void **state) {
    const char *dir = *state;
    DIR *d = opendir(dir);
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (remove(path) != 0) rmdir(path);
    }
    closedir(d);
    return rmdir(dir);
}

static char *path_in(void **state, const char *name) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", (const char *)*state, name);
    return path;
}

static char *read_whole(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot read back %s", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* Names in the directory, sorted, joined by spaces. */
static const char *listing(const char *dir) {
    static char names[1024];
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort);
    names[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (list[i]->d_name[0] != '.')
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", names[0] ? " " : "", list[i]->d_name);
        free(list[i]);
    }
    free(list);
    return names;
}

/* ---- an RFC 4180 reader (LF or CRLF line ends) ---- */

typedef struct {
    int rows, fields[16];
    char *cell[16][32];
} csv_table;

static void parse_csv(const char *s, csv_table *t) {
    memset(t, 0, sizeof *t);
    while (*s) {
        int r = t->rows++, f = 0;
        assert_true(r < 16);
        for (;;) {
            char *cell = malloc(strlen(s) + 1), *out = cell;
            if (*s == '"') {
                for (s++;; s++) {
                    if (!*s) fail_msg("unterminated quoted field");
                    if (*s == '"' && s[1] == '"') *out++ = *s++;
                    else if (*s == '"') break;
                    else *out++ = *s;
                }
                s++;
                if (*s != ',' && *s != '\n' && !(*s == '\r' && s[1] == '\n')) fail_msg("junk after a quoted field: '%s'", s);
            } else {
                for (; *s != ',' && *s != '\n' && !(*s == '\r' && s[1] == '\n'); s++) {
                    if (!*s) fail_msg("last row without its line end");
                    if (*s == '"' || *s == '\r') fail_msg("bare quote or CR in an unquoted field");
                    *out++ = *s;
                }
            }
            *out = '\0';
            assert_true(f < 32);
            t->cell[r][f++] = cell;
            if (*s == ',') {
                s++;
                continue;
            }
            s += *s == '\r' ? 2 : 1;
            break;
        }
        t->fields[r] = f;
    }
}

static void free_csv(csv_table *t) {
    for (int r = 0; r < t->rows; r++)
        for (int f = 0; f < t->fields[r]; f++) free(t->cell[r][f]);
}

static const char *const nasty[] = {
    "plain",
    "a,b",
    "say \"hi\"",
    "\"",
    "line1\nline2",
    "crlf\r\nend",
    "lone\rcr",
    "tab\there",
    "\x01\x1f control",
    "ünïcødé ✓ 日本",
    "",
    " spaced ",
    "back\\slash /",
    "del\x7f",
};
#define N_NASTY (int)(sizeof nasty / sizeof nasty[0])

static void test_csv_quotes_exactly_what_needs_quoting(void **state) {
    (void)state;
    zz_csv c = {0};
    zz_csv_str(&c, "a");
    zz_csv_str(&c, "b,c");
    zz_csv_str(&c, "d\"e");
    zz_csv_str(&c, "f\ng");
    zz_csv_str(&c, "h\ti");
    zz_csv_str(&c, "j\rk");
    zz_csv_end_row(&c);
    assert_string_equal(c.text.data, "a,\"b,c\",\"d\"\"e\",\"f\ng\",h\ti,\"j\rk\"\n");
    zz_csv_free(&c);
}

static void test_csv_nasty_strings_read_back_unchanged(void **state) {
    zz_csv c = {0};
    for (int i = 0; i < N_NASTY; i++) zz_csv_int(&c, i);
    zz_csv_end_row(&c);
    for (int i = 0; i < N_NASTY; i++) zz_csv_str(&c, nasty[i]);
    zz_csv_end_row(&c);
    for (int i = N_NASTY; i-- > 0;) zz_csv_str(&c, nasty[i]);
    zz_csv_end_row(&c);
    zz_error err = {""};
    const char *path = path_in(state, "nasty.csv");
    assert_int_equal(zz_csv_write(&c, path, &err), 0);
    zz_csv_free(&c);

    csv_table t;
    parse_csv(read_whole(path), &t);
    assert_int_equal(t.rows, 3);
    for (int i = 0; i < N_NASTY; i++) {
        char want[16];
        snprintf(want, sizeof want, "%d", i);
        assert_string_equal(t.cell[0][i], want);
        assert_string_equal(t.cell[1][i], nasty[i]);
        assert_string_equal(t.cell[2][N_NASTY - 1 - i], nasty[i]);
    }
    free_csv(&t);
}

static void test_numbers_round_trip_in_short_form(void **state) {
    (void)state;
    const double values[] = {0.1, 1.0 / 3, 1e300, -2.5e-7, 123456789012.0, 5e-324, 0};
    const char *const short_forms[] = {"0.1", NULL, "1e+300", "-2.5e-07", "123456789012", NULL, "0"};
    zz_csv c = {0};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) zz_csv_num(&c, values[i]);
    zz_csv_num(&c, NAN);
    zz_csv_num(&c, -INFINITY);
    zz_csv_int(&c, -9223372036854775807LL);
    zz_csv_end_row(&c);
    csv_table t;
    parse_csv(c.text.data, &t);
    assert_int_equal(t.fields[0], 10);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        assert_true(strtod(t.cell[0][i], NULL) == values[i]);
        if (short_forms[i]) assert_string_equal(t.cell[0][i], short_forms[i]);
    }
    assert_string_equal(t.cell[0][7], "");  /* NaN: a missing value */
    assert_string_equal(t.cell[0][8], "");
    assert_string_equal(t.cell[0][9], "-9223372036854775807");
    free_csv(&t);
    zz_csv_free(&c);
}

static void test_csv_rows_of_the_wrong_width_are_not_written(void **state) {
    zz_csv c = {0};
    zz_csv_str(&c, "a");
    zz_csv_str(&c, "b");
    zz_csv_end_row(&c);
    zz_csv_int(&c, 1);
    zz_csv_end_row(&c);
    zz_error err = {""};
    const char *path = path_in(state, "bad.csv");
    assert_int_equal(zz_csv_write(&c, path, &err), -1);
    expect_message(&err, "bad.csv: csv row 1 has 1 fields, the header 2");
    assert_string_equal(listing(*state), "");
    zz_csv_free(&c);

    zz_csv_str(&c, "a");
    zz_csv_end_row(&c);
    zz_csv_str(&c, "unfinished");
    assert_int_equal(zz_csv_write(&c, path, &err), -1);
    expect_message(&err, "csv row 1 is not finished");
    zz_csv_free(&c);
}

static void test_results_csv_grows_row_by_row_and_is_replaced_whole(void **state) {
    const char *path = path_in(state, "results.csv");
    zz_csv c = {0};
    zz_csv_str(&c, "layout");
    zz_csv_str(&c, "median_us");
    zz_csv_end_row(&c);
    zz_error err = {""};
    const char *const layouts[] = {"zigzag", "duo-cat", "duo-slices"};
    char want[256] = "layout,median_us\n";
    for (int i = 0; i < 3; i++) {
        zz_csv_str(&c, layouts[i]);
        zz_csv_num(&c, 100 + i);
        zz_csv_end_row(&c);
        assert_int_equal(zz_csv_write(&c, path, &err), 0);
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s,%d\n", layouts[i], 100 + i);
        assert_string_equal(read_whole(path), want);
        assert_string_equal(listing(*state), "results.csv");  /* no results.csv.tmp left */
    }
    zz_csv_free(&c);
}

static void test_failed_writes_name_the_path_and_the_reason(void **state) {
    zz_error err = {""};
    char path[512];
    snprintf(path, sizeof path, "%s/missing-dir/env.json", (const char *)*state);
    assert_int_equal(zz_write_file(path, "x", 1, &err), -1);
    expect_message(&err, path);
    expect_message(&err, "No such file or directory");

    /* A file where a directory should be. */
    assert_int_equal(zz_write_file(path_in(state, "plain"), "x", 1, &err), 0);
    snprintf(path, sizeof path, "%s/plain/env.json", (const char *)*state);
    assert_int_equal(zz_write_file(path, "x", 1, &err), -1);
    expect_message(&err, path);
    expect_message(&err, "Not a directory");

    /* The rename fails: the target is a directory. The temporary goes. */
    snprintf(path, sizeof path, "%s", path_in(state, "occupied"));
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(zz_write_file(path, "x", 1, &err), -1);
    expect_message(&err, "cannot replace");
    expect_message(&err, path);
    expect_message(&err, "Is a directory");
    assert_string_equal(listing(*state), "occupied plain");
}

/* ---- a JSON reader (RFC 8259) that collects strings and numbers ---- */

typedef struct {
    char *strings[64];
    int n_strings;
    double numbers[16];
    int n_numbers;
} json_seen;

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    return p;
}

static unsigned hex4(const char *p) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        if (c >= '0' && c <= '9') v = v * 16 + (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v = v * 16 + (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v = v * 16 + (unsigned)(c - 'A' + 10);
        else fail_msg("bad \\u escape");
    }
    return v;
}

static const char *parse_string(const char *p, json_seen *seen) {
    char *out = malloc(strlen(p) + 1), *o = out;
    for (p++; *p != '"'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20) fail_msg("raw control character 0x%02x in a string", c);
        if (c != '\\') {
            *o++ = (char)c;
            continue;
        }
        switch (*++p) {
        case '"': case '\\': case '/': *o++ = *p; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned v = hex4(p + 1);
            if (v >= 0x80) fail_msg("the writer escapes only ASCII controls");
            *o++ = (char)v;
            p += 4;
            break;
        }
        default: fail_msg("bad escape \\%c", *p);
        }
    }
    *o = '\0';
    assert_true(seen->n_strings < 64);
    seen->strings[seen->n_strings++] = out;
    return p + 1;
}

static const char *parse_number(const char *p, json_seen *seen) {
    const char *start = p;
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (*p >= '0' && *p <= '9') p++;
    else fail_msg("bad number at '%.10s'", start);
    if (*p == '.') {
        if (!(*++p >= '0' && *p <= '9')) fail_msg("bad fraction at '%.10s'", start);
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) fail_msg("bad exponent at '%.10s'", start);
        while (*p >= '0' && *p <= '9') p++;
    }
    assert_true(seen->n_numbers < 16);
    seen->numbers[seen->n_numbers++] = strtod(start, NULL);
    return p;
}

static const char *parse_value(const char *p, json_seen *seen) {
    p = skip_space(p);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = skip_space(p + 1);
        if (*p == close) return p + 1;
        for (;;) {
            if (close == '}') {
                if (*p != '"') fail_msg("member without a string key at '%.10s'", p);
                p = skip_space(parse_string(p, seen));
                if (*p++ != ':') fail_msg("key without ':'");
            }
            p = skip_space(parse_value(p, seen));
            if (*p == close) return p + 1;
            if (*p++ != ',') fail_msg("expected ',' or '%c' at '%.10s'", close, p - 1);
            p = skip_space(p);
        }
    }
    if (*p == '"') return parse_string(p, seen);
    if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4)) return p + 4;
    if (!strncmp(p, "false", 5)) return p + 5;
    return parse_number(p, seen);
}

static void parse_json(const char *text, json_seen *seen) {
    memset(seen, 0, sizeof *seen);
    const char *end = skip_space(parse_value(text, seen));
    if (*end) fail_msg("text after the value: '%.20s'", end);
}

static void free_json(json_seen *seen) {
    for (int i = 0; i < seen->n_strings; i++) free(seen->strings[i]);
}

static void test_json_small_document_has_the_exact_text(void **state) {
    zz_json j = {0};
    zz_json_object(&j);
    zz_json_key(&j, "gpu");
    zz_json_str(&j, "H100 \"SXM\"");
    zz_json_key(&j, "sms");
    zz_json_int(&j, 132);
    zz_json_key(&j, "clocks_mhz");
    zz_json_array(&j);
    zz_json_num(&j, 1980);
    zz_json_num(&j, 2619.5);
    zz_json_end(&j);
    zz_json_key(&j, "ceilings");
    zz_json_object(&j);
    zz_json_end(&j);
    zz_json_key(&j, "notes");
    zz_json_array(&j);
    zz_json_end(&j);
    zz_json_key(&j, "tflops");
    zz_json_num(&j, NAN);
    zz_json_key(&j, "cupti");
    zz_json_bool(&j, 1);
    zz_json_key(&j, "cold");
    zz_json_bool(&j, 0);
    zz_json_key(&j, "commit");
    zz_json_null(&j);
    zz_json_end(&j);
    const char *want = "{\n"
                       "  \"gpu\": \"H100 \\\"SXM\\\"\",\n"
                       "  \"sms\": 132,\n"
                       "  \"clocks_mhz\": [\n"
                       "    1980,\n"
                       "    2619.5\n"
                       "  ],\n"
                       "  \"ceilings\": {},\n"
                       "  \"notes\": [],\n"
                       "  \"tflops\": null,\n"
                       "  \"cupti\": true,\n"
                       "  \"cold\": false,\n"
                       "  \"commit\": null\n"
                       "}\n";
    zz_error err = {""};
    const char *path = path_in(state, "env.json");
    assert_int_equal(zz_json_write(&j, path, &err), 0);
    assert_string_equal(read_whole(path), want);
    json_seen seen;
    parse_json(want, &seen);
    assert_int_equal(seen.n_numbers, 3);
    free_json(&seen);
    zz_json_free(&j);
}

static void test_json_nasty_strings_read_back_unchanged(void **state) {
    (void)state;
    zz_json j = {0};
    char every_control[32];
    for (int c = 1; c < 32; c++) every_control[c - 1] = (char)c;
    every_control[31] = '\0';
    zz_json_object(&j);
    zz_json_key(&j, "key \"with\"\n\\ escapes");
    zz_json_array(&j);
    for (int i = 0; i < N_NASTY; i++) zz_json_str(&j, nasty[i]);
    zz_json_str(&j, every_control);
    zz_json_array(&j);
    zz_json_num(&j, -0.0);
    zz_json_num(&j, 1e-300);
    zz_json_num(&j, INFINITY);
    zz_json_end(&j);
    zz_json_end(&j);
    zz_json_end(&j);
    assert_string_equal(j.text.fault, "");
    assert_non_null(strstr(j.text.data, "\\u0001\\u0002"));
    assert_non_null(strstr(j.text.data, "\\b\\t\\n\\u000b\\f\\r"));

    json_seen seen;
    parse_json(j.text.data, &seen);
    assert_int_equal(seen.n_strings, 1 + N_NASTY + 1);
    assert_string_equal(seen.strings[0], "key \"with\"\n\\ escapes");
    for (int i = 0; i < N_NASTY; i++) assert_string_equal(seen.strings[1 + i], nasty[i]);
    assert_string_equal(seen.strings[1 + N_NASTY], every_control);
    assert_int_equal(seen.n_numbers, 2);  /* infinity became null */
    assert_true(seen.numbers[1] == 1e-300);
    free_json(&seen);
    zz_json_free(&j);
}

static void expect_json_fault(void (*build)(zz_json *), const char *needle, void **state) {
    zz_json j = {0};
    build(&j);
    zz_error err = {""};
    assert_int_equal(zz_json_write(&j, path_in(state, "bad.json"), &err), -1);
    expect_message(&err, needle);
    assert_string_equal(listing(*state), "");
    zz_json_free(&j);
}

static void value_without_key(zz_json *j) {
    zz_json_object(j);
    zz_json_int(j, 1);
    zz_json_end(j);
}
static void key_in_array(zz_json *j) {
    zz_json_array(j);
    zz_json_key(j, "k");
    zz_json_end(j);
}
static void two_keys(zz_json *j) {
    zz_json_object(j);
    zz_json_key(j, "a");
    zz_json_key(j, "b");
}
static void dangling_key(zz_json *j) {
    zz_json_object(j);
    zz_json_key(j, "a");
    zz_json_end(j);
}
static void two_top_values(zz_json *j) {
    zz_json_int(j, 1);
    zz_json_int(j, 2);
}
static void unclosed(zz_json *j) {
    zz_json_object(j);
    zz_json_key(j, "a");
    zz_json_array(j);
}
static void extra_end(zz_json *j) {
    zz_json_array(j);
    zz_json_end(j);
    zz_json_end(j);
}
static void too_deep(zz_json *j) {
    for (int i = 0; i <= ZZ_JSON_MAX_DEPTH; i++) zz_json_array(j);
}
static void nothing(zz_json *j) { (void)j; }

static void test_json_misuse_is_reported_and_nothing_written(void **state) {
    expect_json_fault(value_without_key, "bad.json: json: a value in an object without its key", state);
    expect_json_fault(key_in_array, "json: key \"k\" outside an object", state);
    expect_json_fault(two_keys, "json: key \"b\" right after another key", state);
    expect_json_fault(dangling_key, "json: object closed after a key without its value", state);
    expect_json_fault(two_top_values, "json: a second top-level value", state);
    expect_json_fault(unclosed, "json value not finished (2 open)", state);
    expect_json_fault(extra_end, "json: end without an open object or array", state);
    expect_json_fault(too_deep, "json: nested deeper than 16", state);
    expect_json_fault(nothing, "json value not finished (0 open)", state);
}

static void test_check_writable_creates_and_overwrites_nothing(void **state) {
    zz_error err = {""};
    const char *kept = path_in(state, "kept.csv");
    assert_int_equal(zz_write_file(kept, "old\n", 4, &err), 0);
    assert_int_equal(zz_check_writable(kept, &err), 0);
    assert_string_equal(read_whole(kept), "old\n");
    assert_int_equal(zz_check_writable(path_in(state, "new.csv"), &err), 0);
    assert_string_equal(listing(*state), "kept.csv");

    char path[512];
    snprintf(path, sizeof path, "%s/missing-dir/kernels.csv", (const char *)*state);
    assert_int_equal(zz_check_writable(path, &err), -1);
    expect_message(&err, path);
    expect_message(&err, "No such file or directory");
    /* A folder at the path: the rename at the end would fail. */
    assert_int_equal(mkdir(path_in(state, "occupied"), 0755), 0);
    assert_int_equal(zz_check_writable(path_in(state, "occupied"), &err), -1);
    expect_message(&err, "Is a directory");
    assert_string_equal(listing(*state), "kept.csv occupied");
}

static void test_a_finished_temporary_replaces_the_file_whole(void **state) {
    zz_error err = {""};
    const char *path = path_in(state, "out.json");
    assert_int_equal(zz_write_file(path, "old\n", 4, &err), 0);
    char tmp[600];
    assert_int_equal(zz_temp_name(path, tmp, sizeof tmp, &err), 0);
    assert_string_equal(tmp + strlen(tmp) - 12, "out.json.tmp");
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs("{\"new\": 1}\n", f);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(read_whole(path), "old\n");  /* until published */
    assert_int_equal(zz_replace_with_temp(path, &err), 0);
    assert_string_equal(read_whole(path), "{\"new\": 1}\n");
    assert_string_equal(listing(*state), "out.json");

    /* No temporary: nothing to publish, the file stays. */
    assert_int_equal(zz_replace_with_temp(path, &err), -1);
    expect_message(&err, "out.json.tmp: No such file or directory");
    assert_string_equal(read_whole(path), "{\"new\": 1}\n");
}

/* In a child whose stdout is `target`: writes 100 bytes (flushing them at
 * once when early_flush, as a program that shows progress does), then
 * flushes (close: closes) stdout; exit status 0 when the result and message
 * are as expected (want NULL: success). */
static int stdout_child(const char *target, int early_flush, int close, const char *want) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = fopen(target, "w");
        if (!f || dup2(fileno(f), 1) < 0) _exit(3);
        for (int i = 0; i < 100; i++) putchar('x');
        if (early_flush) fflush(stdout);
        zz_error err = {""};
        const int rc = close ? zz_close_stdout(&err) : zz_flush_stdout(&err);
        if (want ? rc == -1 && strstr(err.msg, want) && !strchr(err.msg, '\n') : rc == 0 && !err.msg[0]) _exit(0);
        fprintf(stderr, "rc %d, message '%s'\n", rc, err.msg);
        _exit(1);
    }
    int wstatus;
    if (pid < 0 || waitpid(pid, &wstatus, 0) != pid || !WIFEXITED(wstatus)) return -1;
    return WEXITSTATUS(wstatus);
}

static void test_unwritable_stdout_is_reported(void **state) {
    if (access("/dev/full", W_OK) != 0) {
        print_message("skipped: no writable /dev/full here\n");
        skip();
    }
    const char *file = path_in(state, "stdout.txt");
    assert_int_equal(stdout_child(file, 1, 1, NULL), 0);
    const char *written = read_whole(file);
    assert_int_equal(strlen(written), 100);
    assert_int_equal(strspn(written, "x"), 100);
    assert_int_equal(stdout_child("/dev/full", 0, 0, "cannot write the standard output: No space left on device"), 0);
    assert_int_equal(stdout_child("/dev/full", 0, 1, "cannot write the standard output: No space left on device"), 0);
    /* The write failed before: the flush at the end finds nothing to write. */
    assert_int_equal(stdout_child("/dev/full", 1, 1, "cannot write the standard output: a write failed"), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_quotes_exactly_what_needs_quoting),
        cmocka_unit_test_setup_teardown(test_csv_nasty_strings_read_back_unchanged, make_dir, remove_dir),
        cmocka_unit_test(test_numbers_round_trip_in_short_form),
        cmocka_unit_test_setup_teardown(test_csv_rows_of_the_wrong_width_are_not_written, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_results_csv_grows_row_by_row_and_is_replaced_whole, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_failed_writes_name_the_path_and_the_reason, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_json_small_document_has_the_exact_text, make_dir, remove_dir),
        cmocka_unit_test(test_json_nasty_strings_read_back_unchanged),
        cmocka_unit_test_setup_teardown(test_json_misuse_is_reported_and_nothing_written, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_check_writable_creates_and_overwrites_nothing, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_a_finished_temporary_replaces_the_file_whole, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_unwritable_stdout_is_reported, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
