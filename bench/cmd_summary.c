/* zz-bench summary: a run folder's summary.md rewritten from its
 * results.csv and env.json with this version's tables (report_read.h). */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "report_read.h"

static const char summary_usage[] =
    "usage: zz-bench summary RUN_DIR\n"
    "\n"
    "Rewrites RUN_DIR/summary.md from results.csv and env.json with this version's\n"
    "tables (host share, host-paced marks, ...), for run folders written by older\n"
    "versions. The status line, skipped measurements and notes, which results.csv\n"
    "does not hold, are kept from the summary.md it replaces. Needs no GPU.\n"
    "\n"
    "  -h, --help              this help\n";

/* summary: the folder's summary.md rebuilt (report_read.h); any failure
 * leaves the folder as it was. */
int zz_cmd_summary(int argc, char **argv, zz_error *err) {
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
        return fputs(summary_usage, stdout), 0;
    if (argc != 2 || argv[1][0] == '-')
        return zz_errorf(err, "summary: expected one run folder (usage: zz-bench summary RUN_DIR)"), EXIT_USAGE;
    return zz_report_rewrite_summary(argv[1], err) ? EXIT_USAGE : 0;
}

