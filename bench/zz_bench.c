/* zz-bench: the suite's command line, `zz-bench <command> [options]`.
 *
 *   plan   the per-layer execution plan of one layout, and the equal-budget
 *          summary of duo against zigzag (retrieval heads, KV bytes, FLOPs)
 *   run    the timed sweep on the GPU: every configuration × layout × mode,
 *          written as a run folder (env.json, results.csv, kernels.csv,
 *          summary.md), summary.md printed at the end
 *   summary  a run folder's summary.md rewritten from its results.csv and
 *          env.json with this version's tables (no GPU)
 *   merge  run folders measured in pieces as one run folder (no GPU)
 *   reproduction  the table of DuoAttention's efficiency points over run
 *          folders (no GPU)
 *
 * Every argument is checked, the pattern loaded and every plan of the sweep
 * built before anything is printed or any CUDA call is made, so a bad flag
 * or a bad pattern file leaves stdout empty: one line "zz-bench: <msg>" on
 * stderr and exit status 2, with or without a GPU. So do flags that another
 * flag makes meaningless (--seed with --pattern, --chunk with decode only),
 * a machine without a GPU (run) and a standard output that cannot be
 * written. Failures on the GPU exit with status 1, after writing the rows
 * finished so far. Each command lives in its own file (cli.h); the run
 * protocol itself is the harness's (harness/run/runner.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"

static const char main_usage[] =
    "usage: zz-bench <command> [options]\n"
    "\n"
    "Latency suite for split-head attention: DuoAttention-style mixed layers\n"
    "against ZigzagAttention's layer-exclusive layers.\n"
    "\n"
    "commands:\n"
    "  plan    per-layer execution plan of one layout, and the duo/zigzag budget\n"
    "  run     time every layout of a sweep on the GPU and write a run folder\n"
    "  summary rewrite a run folder's summary.md with this version's tables\n"
    "  merge   merge run folders measured in pieces into one run folder\n"
    "  reproduction  the table of DuoAttention's efficiency points over run folders\n"
    "\n"
    "Run 'zz-bench <command> --help' for the options of a command.\n"
    "\n"
    "Exit status: 0 done; 2 bad input (one line on stderr, before any GPU work),\n"
    "conflicting flags, no GPU or an unwritable standard output; 1 a failure on\n"
    "the GPU; 130 interrupted.\n";

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "zz-bench: missing command (see zz-bench --help)\n");
        return EXIT_USAGE;
    }
    zz_error err = {""};
    int status;
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(main_usage, stdout);
        status = 0;
    } else if (strcmp(argv[1], "plan") == 0) {
        status = zz_cmd_plan(argc - 1, argv + 1, &err);
    } else if (strcmp(argv[1], "run") == 0) {
        char *command_line = cli_quoted_command_line(argc, argv);
        status = zz_cmd_run(argc - 1, argv + 1, command_line ? command_line : argv[0], &err);
        free(command_line);
    } else if (strcmp(argv[1], "summary") == 0) {
        status = zz_cmd_summary(argc - 1, argv + 1, &err);
    } else if (strcmp(argv[1], "merge") == 0) {
        status = zz_cmd_merge(argc - 1, argv + 1, &err);
    } else if (strcmp(argv[1], "reproduction") == 0) {
        status = zz_cmd_reproduction(argc - 1, argv + 1, &err);
    } else {
        zz_errorf(&err, "unknown command '%s' (commands: plan, run, summary, merge, reproduction; see zz-bench --help)", argv[1]);
        status = EXIT_USAGE;
    }
    if (status == 0 && zz_close_stdout(&err)) status = EXIT_USAGE;
    if (status && err.msg[0]) fprintf(stderr, "zz-bench: %s\n", err.msg);
    return status;
}
