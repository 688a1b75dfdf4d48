/* Errors of the harness library.
 *
 * A library function that can fail returns 0 on success and -1 on failure,
 * after writing one line (no trailing newline, no program name) into the
 * caller's zz_error. The library never prints and never exits: the CLI
 * prints "zz-bench: <msg>" on stderr and exits 2.
 */
#ifndef ZZ_ERROR_H
#define ZZ_ERROR_H

typedef struct {
    char msg[512];
} zz_error;

/* Formats the message into err and returns -1, so a failing path reads
 * `return zz_errorf(err, "...", ...);`. */
int zz_errorf(zz_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* For executables: "<program>: <message>" as one line on stderr; returns 2,
 * the exit status of bad input, so a refusal reads `return zz_refuse(...);`. */
#define ZZ_EXIT_BAD_INPUT 2
int zz_refuse(const char *program, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
