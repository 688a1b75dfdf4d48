/* A run folder read back into the report that wrote it, so that its
 * summary.md can be rebuilt with this version's tables (`zz-bench
 * summary`): what zz_report_summary needs, from env.json and results.csv.
 *
 * Configurations are the distinct (phase, batch, ctx, chunk, sink, recent,
 * sparsity, kernel variant) of results.csv in file order, rows in file
 * order; columns are found by header name. A file without the columns
 * decode_kernel and prefill_kernel (before kernel variants had names) ran
 * each phase's default variant. The equal-budget row of a configuration comes from
 * its first duo-cat, duo-gather or duo-slices row (duo's retrieval heads,
 * KV bytes, FLOPs, mixed layers) and its zigzag row; without them, from
 * the budget row of the summary.md being replaced (retrieval heads and
 * mixed layers; bytes and FLOPs by zz_cost_of); zigzag also from duo's
 * retrieval heads when Hkv divides them (the rounding cannot matter then).
 * A budget still not known is left out of the table, with a note.
 *
 * The summary.md being replaced, when there, gives what results.csv does
 * not carry: the status line, the skipped measurements (each put back at
 * its place in its table), the budget notes and the note of layouts sampled
 * in several groups. So a summary rebuilt from the folder of a run of this
 * version equals the one the run wrote, byte for byte. Without summary.md
 * the status says that skipped measurements are not listed.
 *
 * Older results.csv files (no span_us column: before the per-step
 * decomposition and interleaved sampling) hold kernel_scale and an idle_us
 * that was the clean latency minus the busy kernel time of another pass:
 * their span is taken as Σ categories + idle − overlap, which is the clean
 * median by construction, and the report's note says how such a run was
 * measured, under the head of summary.md.
 *
 * Not carried by results.csv, and not in summary.md: the latency's mean and
 * stdev (NAN), host enqueue beyond its median, the kernels (kernels.csv is
 * not read), the median step's own event latency (NAN).
 */
#ifndef ZZ_REPORT_READ_H
#define ZZ_REPORT_READ_H

#include "error.h"
#include "report.h"

/* Reads the folder dir into *info and *report (zz_report_free it; its info
 * points at *info). On failure nothing is left to free. */
int zz_report_read(const char *dir, zz_run_info *info, zz_report *report, zz_error *err);

/* Rewrites dir/summary.md whole from the folder's files; on any failure
 * the folder is left as it was. */
int zz_report_rewrite_summary(const char *dir, zz_error *err);

#endif
