/* Input files: whole-file reads, and strict readers of the two formats
 * output.h writes, for tools that read a run folder back.
 *
 * CSV (RFC 4180): fields separated by commas, rows ended by LF or CRLF; a
 * quoted field may hold commas, line ends and doubled quotes; a quote
 * inside an unquoted field is an error. Every row ends with its line end
 * (a last row without one is a torn file) and has as many fields as the
 * first row, the header. Columns are found by header name.
 *
 * JSON (RFC 8259): objects, arrays, strings (every escape, \uXXXX as UTF-8,
 * surrogate pairs joined), numbers, true, false, null; nesting up to
 * ZZ_JSON_MAX_DEPTH. The document is kept as its scalars, each under its
 * dotted path: {"gpu": {"name": "H100"}} holds "gpu.name"; array elements
 * are numbered, "list.0". A key whose path repeats is an error.
 *
 * Errors name the file and the line: one line in the caller's zz_error.
 */
#ifndef ZZ_INPUT_H
#define ZZ_INPUT_H

#include <stddef.h>

#include "error.h"

/* The whole file, NUL-terminated (the text may hold NULs of its own, hence
 * *len). NULL with errno set when it cannot be opened or read, or is larger
 * than 16 MiB (EFBIG): no input of the suite comes near that. */
char *zz_read_file(const char *path, size_t *len);

/* dir/file into out; a trailing '/' of dir is dropped, so messages read
 * "dir/file" whichever way the user typed the folder. */
int zz_join_path(char *out, size_t size, const char *dir, const char *file, zz_error *err);

typedef struct {
    int rows, columns;  /* rows count the header, row 0 */
    char **cells;       /* row r, column c: cells[r * columns + c], unquoted, into text */
    int *lines;         /* the line of the file each row starts on, for messages */
    char *text;
} zz_csv_table;

/* Parses text[0, len) of the file `name` (for messages). */
int zz_csv_parse(const char *name, const char *text, size_t len, zz_csv_table *out, zz_error *err);
/* The file at path, read whole and parsed. */
int zz_csv_read(const char *path, zz_csv_table *out, zz_error *err);
/* The index of the header's column `name`, or -1. */
int zz_csv_column(const zz_csv_table *t, const char *name);
const char *zz_csv_cell(const zz_csv_table *t, int row, int column);
void zz_csv_table_free(zz_csv_table *t);

typedef enum { ZZ_JSON_NULL, ZZ_JSON_BOOL, ZZ_JSON_NUMBER, ZZ_JSON_STRING } zz_json_kind;

typedef struct {
    char *path;
    zz_json_kind kind;
    double number;  /* a number; 1 or 0 for true and false */
    char *string;   /* a string */
    int line;
} zz_json_leaf;

typedef struct {
    char name[256];  /* the file, for messages */
    zz_json_leaf *leaves;
    int n, cap;
} zz_json_doc;

int zz_json_parse(const char *name, const char *text, size_t len, zz_json_doc *out, zz_error *err);
int zz_json_read(const char *path, zz_json_doc *out, zz_error *err);
/* The scalar at path, or NULL. */
const zz_json_leaf *zz_json_find(const zz_json_doc *d, const char *path);
/* Typed reads of a required scalar: a missing one, one of another kind, a
 * string longer than out or a number outside [min, max] fails with the
 * file and path. null reads as NAN where a number is asked for: the
 * writer's text for a non-finite number. */
int zz_json_get_string(const zz_json_doc *d, const char *path, char *out, size_t size, zz_error *err);
int zz_json_get_number(const zz_json_doc *d, const char *path, double *out, zz_error *err);
int zz_json_get_whole(const zz_json_doc *d, const char *path, long long min, long long max, long long *out,
                      zz_error *err);
int zz_json_get_bool(const zz_json_doc *d, const char *path, int *out, zz_error *err);
void zz_json_doc_free(zz_json_doc *d);

#endif
