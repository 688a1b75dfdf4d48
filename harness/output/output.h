/* Output files: whole-file writes, CSV and JSON.
 *
 * Every file is written whole: to `path.tmp` in the same directory, flushed
 * to disk, then renamed over `path`, so a crash leaves the old file or the
 * new one, never a torn one.
 *
 * CSV (RFC 4180 quoting, LF line ends): a field holding a comma, a quote, CR
 * or LF is quoted, quotes doubled; other bytes (UTF-8 included) pass as they
 * are. Every row must have as many fields as the first (the header).
 * JSON (RFC 8259): two-space indents, one member or element per line; in
 * strings `"` `\` and control characters are escaped (\n, \t ... or \u00XX),
 * other bytes pass as they are.
 * Numbers in both: the shortest of %.15g .. %.17g that reads back as the same
 * double. A non-finite number has no text: an empty CSV field, JSON null.
 *
 * Builders never fail on the spot: running out of memory, or misuse (a row
 * of the wrong width, a JSON value without its key, an unclosed container),
 * is remembered and reported by the write, which then writes nothing.
 */
#ifndef ZZ_OUTPUT_H
#define ZZ_OUTPUT_H

#include <stddef.h>

#include "error.h"

int zz_write_file(const char *path, const char *data, size_t len, zz_error *err);
/* The name path is written under until it is complete: path.tmp. */
int zz_temp_name(const char *path, char *tmp, size_t size, zz_error *err);
/* Whether zz_write_file(path, ...) can succeed, checked before the work
 * whose results it will hold: creates and removes path.tmp; a directory at
 * path fails too. */
int zz_check_writable(const char *path, zz_error *err);
/* Publishes path.tmp, written whole by someone else (Google Benchmark's
 * --benchmark_out): flushed to disk, renamed over path; removed if that
 * fails. */
int zz_replace_with_temp(const char *path, zz_error *err);
/* Flushes stdout; fails if that or any earlier write to it failed. */
int zz_flush_stdout(zz_error *err);
/* Flushes and closes stdout, at the end of a program that writes results
 * there: a full disk under `> file` must not end in exit status 0. */
int zz_close_stdout(zz_error *err);

/* A growing NUL-terminated string with a remembered fault. */
typedef struct {
    char *data;
    size_t len, cap;
    char fault[160];  /* first problem, "" if none */
} zz_text;

typedef struct {
    zz_text text;
    int columns;  /* fields of the first row; 0 before it ends */
    int fields;   /* fields of the current row so far */
    int rows;     /* finished rows, header included */
} zz_csv;

void zz_csv_str(zz_csv *c, const char *s);
void zz_csv_num(zz_csv *c, double v);
void zz_csv_int(zz_csv *c, long long v);
void zz_csv_end_row(zz_csv *c);
/* Writes the finished rows; a row still open is a fault. */
int zz_csv_write(const zz_csv *c, const char *path, zz_error *err);
void zz_csv_free(zz_csv *c);

#define ZZ_JSON_MAX_DEPTH 16

typedef struct {
    zz_text text;
    int depth;
    unsigned char is_object[ZZ_JSON_MAX_DEPTH], has_items[ZZ_JSON_MAX_DEPTH];
    int after_key;  /* a key waits for its value */
    int complete;   /* the top-level value is finished */
} zz_json;

void zz_json_object(zz_json *j);  /* opens {, closed by zz_json_end */
void zz_json_array(zz_json *j);   /* opens [, closed by zz_json_end */
void zz_json_end(zz_json *j);
void zz_json_key(zz_json *j, const char *key);
void zz_json_str(zz_json *j, const char *s);
void zz_json_num(zz_json *j, double v);
void zz_json_int(zz_json *j, long long v);
void zz_json_bool(zz_json *j, int v);
void zz_json_null(zz_json *j);
/* Writes one complete top-level value (followed by a newline). */
int zz_json_write(const zz_json *j, const char *path, zz_error *err);
void zz_json_free(zz_json *j);

#endif
