/* zz-bench merge: run folders measured in pieces (scripts/reproduce) as one
 * run folder; zz-bench reproduction: the table of DuoAttention's points
 * over several run folders (reproduce.h). */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "input.h"
#include "report_read.h"
#include "reproduce.h"

static const char merge_usage[] =
    "usage: zz-bench merge OUT PIECE...\n"
    "\n"
    "Merges run folders of one model, measured in pieces (e.g. by scripts/reproduce,\n"
    "a point or a group of layouts each), into the run folder OUT: results.csv and\n"
    "kernels.csv are the pieces' concatenated (their headers must be the same),\n"
    "env.json is the first piece's with the list of pieces added, and summary.md is\n"
    "rebuilt from them as zz-bench summary does, with each piece's skipped\n"
    "measurements (from its summary.md). The pieces must share the model, step, GPU\n"
    "and pattern, and no layout and mode of a configuration may be in two pieces.\n"
    "Needs no GPU; OUT is created if missing, its files replaced.\n"
    "\n"
    "  -h, --help              this help\n";

static const char reproduction_usage[] =
    "usage: zz-bench reproduction RUN_DIR...\n"
    "\n"
    "Prints the table \"Reproduction of DuoAttention's efficiency figures\" over the\n"
    "run folders (one per model, e.g. the merged folders of scripts/reproduce) as\n"
    "markdown: the rows of DuoAttention's points each folder has. Needs no GPU.\n"
    "\n"
    "  -h, --help              this help\n";

static int help_asked(int argc, char **argv) {
    return argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0);
}

/* The first line of dir/name (malloc'd, without its newline) and the rest
 * (*body, into the same buffer), or NULL with err set. */
static char *read_csv_text(const char *dir, const char *name, char **body, zz_error *err) {
    char path[4096];
    size_t len;
    if (zz_join_path(path, sizeof path, dir, name, err)) return NULL;
    char *text = zz_read_file(path, &len);
    if (!text) return zz_errorf(err, "merge: %s: cannot read: %s", path, strerror(errno)), NULL;
    if (strlen(text) != len || !len || text[len - 1] != '\n') {
        free(text);
        return zz_errorf(err, "merge: %s: empty, or its last line is cut short", path), NULL;
    }
    char *nl = strchr(text, '\n');
    *nl = '\0';
    *body = nl + 1;
    return text;
}

/* Appends s to a growing string; -1 out of memory. */
static int put(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t grown = *cap ? *cap : 4096;
        while (*len + n + 1 > grown) grown *= 2;
        char *b = realloc(*buf, grown);
        if (!b) return -1;
        *buf = b, *cap = grown;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

/* dir/name of every piece concatenated under the first's header. */
static int merge_csv(const char *out, const char *name, char **pieces, int n, zz_error *err) {
    char *merged = NULL, *first = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (int k = 0; k < n && !rc; k++) {
        char *body, *text = read_csv_text(pieces[k], name, &body, err);
        if (!text) rc = -1;
        else if (k && strcmp(text, first))
            rc = zz_errorf(err, "merge: %s/%s: its header differs from %s/%s's (pieces of different versions?)",
                           pieces[k], name, pieces[0], name);
        else if ((!k && (put(&merged, &len, &cap, text, strlen(text)) || put(&merged, &len, &cap, "\n", 1))) ||
                 put(&merged, &len, &cap, body, strlen(body)))
            rc = zz_errorf(err, "merge: out of memory");
        if (!k) first = text;
        else free(text);
    }
    free(first);
    char path[4096];
    if (!rc) rc = zz_join_path(path, sizeof path, out, name, err) || zz_write_file(path, merged, len, err);
    free(merged);
    return rc ? -1 : 0;
}

/* s as a JSON string's contents (quotes and backslashes escaped, control characters dropped). */
static int put_json_string(char **buf, size_t *len, size_t *cap, const char *s) {
    if (put(buf, len, cap, "\"", 1)) return -1;
    for (; *s; s++) {
        if ((*s == '"' || *s == '\\') && put(buf, len, cap, "\\", 1)) return -1;
        if ((unsigned char)*s >= 0x20 && put(buf, len, cap, s, 1)) return -1;
    }
    return put(buf, len, cap, "\"", 1);
}

/* The first piece's env.json with "pieces": [...] before its closing brace. */
static int merge_env(const char *out, char **pieces, int n, zz_error *err) {
    char path[4096];
    size_t len;
    if (zz_join_path(path, sizeof path, pieces[0], "env.json", err)) return -1;
    char *text = zz_read_file(path, &len);
    if (!text) return zz_errorf(err, "merge: %s: cannot read: %s", path, strerror(errno));
    char *close = strrchr(text, '}');
    if (!close) {
        free(text);
        return zz_errorf(err, "merge: %s: not a JSON object", path);
    }
    while (close > text && strchr(" \t\r\n", close[-1])) close--;
    char *merged = NULL;
    size_t mlen = 0, cap = 0;
    int rc = put(&merged, &mlen, &cap, text, (size_t)(close - text)) ||
             put(&merged, &mlen, &cap, ",\n  \"pieces\": [", strlen(",\n  \"pieces\": ["));
    for (int k = 0; k < n && !rc; k++)
        rc = (k && put(&merged, &mlen, &cap, ", ", 2)) || put_json_string(&merged, &mlen, &cap, pieces[k]);
    rc = rc || put(&merged, &mlen, &cap, "]\n}\n", 4);
    free(text);
    if (rc) {
        free(merged);
        return zz_errorf(err, "merge: out of memory");
    }
    rc = zz_join_path(path, sizeof path, out, "env.json", err) || zz_write_file(path, merged, mlen, err);
    free(merged);
    return rc ? -1 : 0;
}

/* The last component of a pattern path, trailing slashes left out. */
static size_t pattern_name(const char *pattern, const char **name) {
    size_t end = strlen(pattern);
    while (end > 1 && pattern[end - 1] == '/') end--;
    size_t start = end;
    while (start > 0 && pattern[start - 1] != '/') start--;
    *name = pattern + start;
    return end - start;
}

/* One pattern: the same text, or paths to folders of one name (a published
 * pattern's folder, reached from different places: the pieces of one
 * reproduction may run from different working directories). */
static int same_pattern(const char *a, const char *b) {
    if (!strcmp(a, b)) return 1;
    if (!strchr(a, '/') || !strchr(b, '/')) return 0;
    const char *na, *nb;
    const size_t la = pattern_name(a, &na), lb = pattern_name(b, &nb);
    return la == lb && la > 0 && !strncmp(na, nb, la);
}

/* The pieces read back and merged into *merged (its info is infos[0]). */
static int merge_reports(char **pieces, int n, zz_run_info *infos, zz_report *merged, zz_error *err) {
    int rc = 0, shared = 0, measured = 0, skipped = 0;
    char incomplete[160] = "";
    for (int k = 0; k < n && !rc; k++) {
        zz_report piece;
        zz_error why;
        if (zz_report_read(pieces[k], &infos[k], &piece, &why)) {
            if (k) zz_report_free(merged);
            return zz_errorf(err, "merge: %s", why.msg);
        }
        const zz_run_info *a = &infos[0], *b = &infos[k];
        if (k == 0) zz_report_init(merged, &infos[0]);
        if (strcmp(a->model.name, b->model.name) || a->model.layers != b->model.layers || a->step != b->step ||
            strcmp(a->device.name, b->device.name) || !same_pattern(a->pattern, b->pattern))
            rc = zz_errorf(err, "merge: %s is of %s %s on %s (%s), %s of %s %s on %s (%s): merge each model's "
                                "pieces apart",
                           pieces[k], b->model.name, zz_step_name(b->step), b->device.name, b->pattern, pieces[0],
                           a->model.name, zz_step_name(a->step), a->device.name, a->pattern);
        else if (zz_report_merge(merged, &piece, &shared, &why))
            rc = zz_errorf(err, "merge: %s: %s", pieces[k], why.msg);
        if (!rc && strncmp(piece.status, "complete", 8)) {
            const size_t used = strlen(incomplete);
            snprintf(incomplete + used, sizeof incomplete - used, "%s%s", used ? ", " : "", pieces[k]);
        }
        zz_report_free(&piece);
    }
    if (rc) {
        zz_report_free(merged);
        return -1;
    }
    for (int i = 0; i < merged->n_rows; i++) merged->rows[i].skipped[0] ? skipped++ : measured++;
    int len = snprintf(merged->status, sizeof merged->status,
                       "merged from %d pieces (env.json lists them): %d measurements, %d skipped (device memory)", n,
                       measured, skipped);
    if (shared && len < (int)sizeof merged->status)
        len += snprintf(merged->status + len, sizeof merged->status - (size_t)len,
                        "; %d configurations' layouts sampled in separate pieces, not interleaved", shared);
    if (incomplete[0] && len < (int)sizeof merged->status)
        snprintf(merged->status + len, sizeof merged->status - (size_t)len, "; not complete: %s", incomplete);
    return 0;
}

int zz_cmd_merge(int argc, char **argv, zz_error *err) {
    if (help_asked(argc, argv)) return fputs(merge_usage, stdout), 0;
    if (argc < 3) return zz_errorf(err, "merge: expected OUT and at least one piece (usage: zz-bench merge OUT PIECE...)"),
                         EXIT_USAGE;
    for (int k = 1; k < argc; k++)
        if (argv[k][0] == '-') return zz_errorf(err, "merge: unknown option '%s'", argv[k]), EXIT_USAGE;
    const char *out = argv[1];
    char **pieces = argv + 2;
    const int n = argc - 2;
    for (int k = 0; k < n; k++)
        if (strcmp(pieces[k], out) == 0) return zz_errorf(err, "merge: OUT %s is also a piece", out), EXIT_USAGE;
    zz_run_info *infos = calloc((size_t)n, sizeof *infos);
    if (!infos) return zz_errorf(err, "merge: out of memory"), EXIT_USAGE;
    zz_report merged;
    int rc = merge_reports(pieces, n, infos, &merged, err);
    if (rc) {
        free(infos);
        return EXIT_USAGE;
    }
    /* Both CSV headers are checked before anything is written. */
    char *summary = zz_report_summary(&merged);
    zz_report_free(&merged);
    if (!summary) rc = zz_errorf(err, "merge: out of memory");
    if (!rc && mkdir(out, 0777) && errno != EEXIST) rc = zz_errorf(err, "merge: %s: %s", out, strerror(errno));
    char path[4096];
    if (!rc) rc = merge_csv(out, "results.csv", pieces, n, err) || merge_csv(out, "kernels.csv", pieces, n, err) ||
                  merge_env(out, pieces, n, err) || zz_join_path(path, sizeof path, out, "summary.md", err) ||
                  zz_write_file(path, summary, strlen(summary), err);
    free(summary);
    free(infos);
    return rc ? EXIT_USAGE : 0;
}

int zz_cmd_reproduction(int argc, char **argv, zz_error *err) {
    if (help_asked(argc, argv)) return fputs(reproduction_usage, stdout), 0;
    if (argc < 2) return zz_errorf(err, "reproduction: expected run folders (usage: zz-bench reproduction RUN_DIR...)"),
                         EXIT_USAGE;
    const int n = argc - 1;
    zz_run_info *infos = calloc((size_t)n, sizeof *infos);
    zz_report *reports = calloc((size_t)n, sizeof *reports);
    const zz_report **list = calloc((size_t)n, sizeof *list);
    int read = 0, rc = 0;
    if (!infos || !reports || !list) rc = zz_errorf(err, "reproduction: out of memory");
    for (; !rc && read < n; read++) {
        if (argv[1 + read][0] == '-') {
            rc = zz_errorf(err, "reproduction: unknown option '%s'", argv[1 + read]);
            break;
        }
        zz_error why;
        if (zz_report_read(argv[1 + read], &infos[read], &reports[read], &why)) {
            rc = zz_errorf(err, "reproduction: %s", why.msg);
            break;
        }
        /* zz_report_read pointed its info at infos[read], which stays put */
        list[read] = &reports[read];
    }
    if (!rc) {
        int any = 0;
        for (int k = 0; k < n; k++)
            for (int c = 0; c < reports[k].n_configs; c++) any |= zz_duo_point_of(&infos[k], &reports[k].configs[c]) >= 0;
        if (!any) rc = zz_errorf(err, "reproduction: none of the run folders has a row of DuoAttention's points");
        else zz_reproduction_section(stdout, list, n);
    }
    for (int k = 0; k < read; k++) zz_report_free(&reports[k]);
    free(infos), free(reports), free(list);
    return rc ? EXIT_USAGE : 0;
}
