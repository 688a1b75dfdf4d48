/* The readers of input.h: what output.h's writers write reads back the
 * same, RFC 4180 and RFC 8259 corner cases, and every malformed input
 * refused with its line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "output.h"

static void expect_in(const char *text, const char *needle) {
    if (!strstr(text, needle)) fail_msg("lacks '%s' in: %s", needle, text);
}

/* ---- CSV ---- */

static int parse_csv(const char *text, zz_csv_table *t, zz_error *err) {
    return zz_csv_parse("t.csv", text, strlen(text), t, err);
}

static void test_csv_quoting_reads_back_what_the_writer_wrote(void **state) {
    (void)state;
    static const char *const fields[] = {"plain", "a, comma", "say \"hi\"", "two\nlines", "", "\"", "α,β"};
    const int n = (int)(sizeof fields / sizeof fields[0]);
    zz_csv c = {0};
    for (int row = 0; row < 3; row++) {
        for (int f = 0; f < n; f++) zz_csv_str(&c, fields[(f + row) % n]);
        zz_csv_end_row(&c);
    }
    zz_csv_table t;
    zz_error err = {""};
    if (parse_csv(c.text.data, &t, &err)) fail_msg("%s", err.msg);
    assert_int_equal(t.rows, 3);
    assert_int_equal(t.columns, n);
    for (int row = 0; row < 3; row++)
        for (int f = 0; f < n; f++) assert_string_equal(zz_csv_cell(&t, row, f), fields[(f + row) % n]);
    assert_int_equal(t.lines[1], 3);  /* each row holds a line end inside quotes */
    assert_int_equal(t.lines[2], 5);
    assert_int_equal(zz_csv_column(&t, "a, comma"), 1);
    assert_int_equal(zz_csv_column(&t, "a"), -1);
    zz_csv_table_free(&t);
    zz_csv_free(&c);
}

static void test_csv_crlf_and_empty_fields(void **state) {
    (void)state;
    zz_csv_table t;
    zz_error err = {""};
    if (parse_csv("a,b,c\r\n,,\r\n\"x\"\"\",,3\r\n", &t, &err)) fail_msg("%s", err.msg);
    assert_int_equal(t.rows, 3);
    assert_string_equal(zz_csv_cell(&t, 1, 0), "");
    assert_string_equal(zz_csv_cell(&t, 1, 2), "");
    assert_string_equal(zz_csv_cell(&t, 2, 0), "x\"");
    assert_string_equal(zz_csv_cell(&t, 2, 2), "3");
    zz_csv_table_free(&t);
}

static void test_csv_malformed_refused_with_its_line(void **state) {
    (void)state;
    static const struct {
        const char *text, *message;
    } cases[] = {
        {"", "t.csv: empty file"},
        {"a,b\n1,2", "t.csv line 2: the last row has no line end: a torn file"},
        {"a,b\n1,", "t.csv line 2: the last row has no line end: a torn file"},
        {"a,b\n1,\"2\n", "t.csv line 2: a quoted field never closes: a torn file"},
        {"a,b\n1,2\n3\n", "t.csv line 3: 1 fields, the header has 2"},
        {"a,b\n\"x\ny\",2\n3,4,5\n", "t.csv line 4: 3 fields, the header has 2"},
        {"a,b\n1,x\"y\n", "t.csv line 2: a quote inside an unquoted field"},
        {"a,b\n\"1\"x,2\n", "t.csv line 2: text after a quoted field's closing quote"},
        {"a,b\r1,2\n", "t.csv line 1: a carriage return without its line feed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zz_csv_table t;
        zz_error err = {""};
        if (parse_csv(cases[i].text, &t, &err) == 0) fail_msg("accepted case %zu", i);
        assert_string_equal(err.msg, cases[i].message);
        assert_null(t.cells);
    }
    zz_csv_table t;
    zz_error err = {""};
    assert_int_equal(zz_csv_parse("t.csv", "a\n\0\n", 4, &t, &err), -1);
    assert_string_equal(err.msg, "t.csv: holds a NUL byte: not a CSV file");
}

/* ---- JSON ---- */

static int parse_json(const char *text, zz_json_doc *d, zz_error *err) {
    return zz_json_parse("t.json", text, strlen(text), d, err);
}

static void test_json_reads_back_what_the_writer_wrote(void **state) {
    (void)state;
    static const char tricky[] = "quote \" backslash \\ tab \t newline \n bell \a del \x7f α";
    zz_json j = {0};
    zz_json_object(&j);
    zz_json_key(&j, "s");
    zz_json_str(&j, tricky);
    zz_json_key(&j, "gpu");
    zz_json_object(&j);
    zz_json_key(&j, "bytes");
    zz_json_int(&j, 85017493504LL);
    zz_json_key(&j, "rate");
    zz_json_num(&j, 2990.4578565398815);
    zz_json_key(&j, "none");
    zz_json_num(&j, NAN);
    zz_json_end(&j);
    zz_json_key(&j, "list");
    zz_json_array(&j);
    zz_json_bool(&j, 1);
    zz_json_bool(&j, 0);
    zz_json_num(&j, -1e-300);
    zz_json_end(&j);
    zz_json_key(&j, "empty");
    zz_json_object(&j);
    zz_json_end(&j);
    zz_json_end(&j);
    assert_int_equal(j.text.fault[0], '\0');
    zz_json_doc d;
    zz_error err = {""};
    if (parse_json(j.text.data, &d, &err)) fail_msg("%s", err.msg);
    char s[128];
    double x;
    long long whole;
    int flag;
    assert_int_equal(zz_json_get_string(&d, "s", s, sizeof s, &err), 0);
    assert_string_equal(s, tricky);
    assert_int_equal(zz_json_get_whole(&d, "gpu.bytes", 0, 1LL << 40, &whole, &err), 0);
    assert_true(whole == 85017493504LL);
    assert_int_equal(zz_json_get_number(&d, "gpu.rate", &x, &err), 0);
    assert_true(x == 2990.4578565398815);
    assert_int_equal(zz_json_get_number(&d, "gpu.none", &x, &err), 0);
    assert_true(isnan(x));
    assert_int_equal(zz_json_get_bool(&d, "list.0", &flag, &err), 0);
    assert_true(flag);
    assert_int_equal(zz_json_get_bool(&d, "list.1", &flag, &err), 0);
    assert_false(flag);
    assert_int_equal(zz_json_get_number(&d, "list.2", &x, &err), 0);
    assert_true(x == -1e-300);
    assert_null(zz_json_find(&d, "empty"));
    /* typed reads say what they expected, and where */
    assert_int_equal(zz_json_get_whole(&d, "gpu.rate", 0, 1 << 30, &whole, &err), -1);
    assert_string_equal(err.msg, "t.json line 5: gpu.rate: expected a whole number from 0 to 1073741824");
    assert_int_equal(zz_json_get_string(&d, "gpu.bytes", s, sizeof s, &err), -1);
    assert_string_equal(err.msg, "t.json line 4: gpu.bytes: expected a string");
    assert_int_equal(zz_json_get_bool(&d, "gpu.missing", &flag, &err), -1);
    assert_string_equal(err.msg, "t.json: no gpu.missing");
    assert_int_equal(zz_json_get_string(&d, "s", s, 8, &err), -1);
    assert_string_equal(err.msg, "t.json line 2: s: longer than 7 bytes");
    zz_json_doc_free(&d);
    zz_json_free(&j);
}

static void test_json_unicode_escapes(void **state) {
    (void)state;
    zz_json_doc d;
    zz_error err = {""};
    char s[64];
    if (parse_json("{\"a\": \"\\u00e9\\u20AC\\ud83d\\ude00\\/\\b\\f\\r\"}", &d, &err)) fail_msg("%s", err.msg);
    assert_int_equal(zz_json_get_string(&d, "a", s, sizeof s, &err), 0);
    assert_string_equal(s, "é€😀/\b\f\r");
    zz_json_doc_free(&d);
}

static void test_json_malformed_refused_with_its_line(void **state) {
    (void)state;
    char deep[64] = "";
    for (int i = 0; i <= ZZ_JSON_MAX_DEPTH; i++) strcat(deep, "[");
    const struct {
        const char *text, *message;
    } cases[] = {
        {"", "line 1: the text ends where a value belongs"},
        {"{\"a\": 1,\n}", "line 2: expected a key in quotes"},
        {"{\"a\" 1}", "line 1: expected ':' after a key"},
        {"{\"a\": 1 \"b\": 2}", "line 1: expected ',' or '}'"},
        {"{\"a\": 1}\n{}", "line 2: text after the JSON value"},
        {"{\"a\": 1, \"a\": 2}", "line 1: a appears twice"},
        {"{\"a\": \"x", "line 1: a string never closes"},
        {"{\"a\": \"x\ny\"}", "line 1: a control character inside a string: escape it"},
        {"{\"a\": \"\\x\"}", "line 1: unknown escape \\x"},
        {"{\"a\": \"\\u12\"}", "line 1: \\u needs four hex digits"},
        {"{\"a\": \"\\ud83d\"}", "line 1: a high surrogate \\uD83D without its low one"},
        {"{\"a\": \"\\ude00\"}", "line 1: a low surrogate \\uDE00 without its high one"},
        {"{\"a\": \"\\u0000\"}", "line 1: \\u0000 inside a string"},
        {"[01]", "line 1: expected ',' or ']'"},
        {"[1.]", "line 1: a malformed number"},
        {"[.5]", "line 1: unexpected '.' where a value belongs"},
        {"[-]", "line 1: a malformed number"},
        {"[1e]", "line 1: a malformed number"},
        {"[0x10]", "line 1: expected ',' or ']'"},
        {"[1e999]", "line 1: number 1e999 out of range"},
        {"[inf]", "line 1: unexpected 'i' where a value belongs"},
        {"[tru]", "line 1: unexpected 't' where a value belongs"},
        {deep, "line 1: nested deeper than 16"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zz_json_doc d;
        zz_error err = {""};
        if (parse_json(cases[i].text, &d, &err) == 0) fail_msg("accepted case %zu: %s", i, cases[i].text);
        char want[160];
        snprintf(want, sizeof want, "t.json %s", cases[i].message);
        assert_string_equal(err.msg, want);
        assert_int_equal(d.n, 0);
    }
}

/* ---- files ---- */

static void test_join_path_drops_a_trailing_slash(void **state) {
    (void)state;
    char out[32];
    zz_error err = {""};
    assert_int_equal(zz_join_path(out, sizeof out, "results/run/", "env.json", &err), 0);
    assert_string_equal(out, "results/run/env.json");
    assert_int_equal(zz_join_path(out, 8, "results", "env.json", &err), -1);
    expect_in(err.msg, "folder path too long: results");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_quoting_reads_back_what_the_writer_wrote),
        cmocka_unit_test(test_csv_crlf_and_empty_fields),
        cmocka_unit_test(test_csv_malformed_refused_with_its_line),
        cmocka_unit_test(test_json_reads_back_what_the_writer_wrote),
        cmocka_unit_test(test_json_unicode_escapes),
        cmocka_unit_test(test_json_malformed_refused_with_its_line),
        cmocka_unit_test(test_join_path_drops_a_trailing_slash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
