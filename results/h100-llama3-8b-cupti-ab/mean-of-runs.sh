#!/bin/sh
# mean-of-runs.sh: each configuration's median, averaged over the two runs
# with CUPTI (cupti-1, cupti-2) and the two without (nocupti-1, nocupti-2),
# the change of the CUPTI-off mean against the CUPTI mean, and each pair's
# own repeat change; host-paced as in harness/report.h (host enqueue >= 30 %
# of the step in any run). Run from the repository root.
cd "$(dirname "$0")" || exit 2
awk -F, '
FNR == 1 { run++; for (i = 1; i <= NF; i++) col[$i] = i; next }
{
    k = sprintf("%-7s %-10s %-5s", $col["ctx"], $col["layout"], $col["mode"])
    if (!(k in seen)) order[++n] = k
    seen[k] = 1; median[k, run] = $col["median_us"]
    if ($col["host_enqueue_us"] >= 0.3 * $col["median_us"]) host_paced[k] = 1
}
END {
    printf "%-24s %10s %10s %9s %13s %13s\n", "decode B1 S layout mode", "CUPTI", "no CUPTI", "change", "CUPTI repeat", "off repeat"
    for (i = 1; i <= n; i++) {
        k = order[i]
        on = (median[k, 1] + median[k, 3]) / 2; off = (median[k, 2] + median[k, 4]) / 2
        printf "%-24s %10.1f %10.1f %+8.2f%% %+12.2f%% %+12.2f%%%s\n", k, on, off, 100 * (off - on) / on,
               100 * (median[k, 3] - median[k, 1]) / median[k, 1], 100 * (median[k, 4] - median[k, 2]) / median[k, 2],
               host_paced[k] ? "  host-paced" : ""
    }
}' cupti-1/results.csv nocupti-1/results.csv cupti-2/results.csv nocupti-2/results.csv
