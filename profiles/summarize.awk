# summarize.awk: markdown summary of an Nsight Compute raw-page CSV export
# (ncu --nvtx ... ; ncu --import R.ncu-rep --page raw --csv --print-units base).
#
#   awk -f scripts/csv.awk -f profiles/summarize.awk [-v title=T] [-v command=C] raw.csv
#
# The export has a header row of metric names, a row of units, then one row
# per profiled kernel in launch order. profiles/ncu.sh profiles one layer in
# every step the run takes (a warm-up and two samples), so the rows repeat
# one launch sequence: the shortest period of (kernel, NVTX op) that the rows
# repeat exactly is the layer's sequence. The table shows its first repeat,
# with the spread of each kernel's duration over the repeats (how far ncu's
# measurements of the same launch disagree); rows that never repeat are one
# repeat. Columns are found by name; a missing one or an export without
# kernels stops with one line.

function die(msg) {
    print "profile: error: " msg > "/dev/stderr"
    failed = 1
    exit 1
}

# "void decode_split_kernel<128>(DecodeParams)" -> "decode_split_kernel<128>"
function short_name(name,    close_at, open_at) {
    sub(/^void /, "", name)
    close_at = match(name, />[^>]*$/)
    open_at = index(substr(name, close_at + 1), "(")
    if (open_at) name = substr(name, 1, close_at + open_at - 1)
    return name
}

# ncu writes numbers with thousands separators ("102,400").
function value(row, metric,    v) {
    v = cell[row, col[metric]]
    gsub(/,/, "", v)
    return v + 0
}
function fixed(x, digits) { return sprintf("%." digits "f", x) }

BEGIN {
    n_need = split("Kernel Name;gpu__time_duration.sum;gpu__dram_throughput.avg.pct_of_peak_sustained_elapsed;" \
                   "sm__throughput.avg.pct_of_peak_sustained_elapsed;sm__warps_active.avg.pct_of_peak_sustained_active;" \
                   "launch__registers_per_thread;launch__shared_mem_per_block_static;" \
                   "launch__shared_mem_per_block_dynamic;launch__grid_size;launch__block_size;" \
                   "dram__bytes.sum.per_second", need, ";")
}

FNR == 1 {
    n = csv($0, f)
    for (i = 1; i <= n; i++) {
        col[f[i]] = i
        if (f[i] ~ /^thread Domain:Push\/Pop_Range/) nvtx_col = i
    }
    for (i = 1; i <= n_need; i++)
        if (!(need[i] in col)) die(FILENAME " has no column \"" need[i] "\" (export with --page raw --print-units base)")
    next
}
FNR == 2 {
    n = csv($0, f)
    unit = f[col["gpu__time_duration.sum"]]
    if (unit != "nsecond" && unit != "ns")
        die(FILENAME ": durations in \"" unit "\", expected nsecond (export with --print-units base)")
    next
}
{
    n = csv($0, f)
    rows++
    for (i = 1; i <= n; i++) cell[rows, i] = f[i]
    op[rows] = nvtx_col ? innermost_range(f[nvtx_col]) : "-"
    launch[rows] = f[col["Kernel Name"]] " @ " op[rows]
}

# The innermost push/pop range of ncu's NVTX cell:
#   2584  "zz-bench:run:...:ASCII:run"  ...  "zz-bench:layer 1:...:ASCII:cache-append"
function innermost_range(nvtx,    at, rest) {
    at = 0
    while ((rest = index(substr(nvtx, at + 1), ":ASCII:"))) at += rest
    if (!at) return "-"
    rest = substr(nvtx, at + 7)
    sub(/".*/, "", rest)
    return rest
}

# The shortest period p (dividing rows) with launch[i] == launch[i - p] for all i.
function period(    p, i) {
    for (p = 1; p <= rows; p++) {
        if (rows % p) continue
        for (i = p + 1; i <= rows && launch[i] == launch[i - p]; i++) ;
        if (i > rows) return p
    }
}

END {
    if (failed) exit 1
    if (rows == 0) die(FILENAME ": no kernels in the export (did the NVTX filter match nothing?)")
    per_step = period()
    steps = rows / per_step
    if (title != "") print "# Nsight Compute: " title "\n"
    if (command != "") print "Command: `" command "`\n"
    print "One layer of one eager step: " per_step " kernels, metrics of the first of " steps " profiled repeats."
    print "Spread: (max - min) / min of the kernel's duration over the repeats. DRAM and SM: % of peak"
    print "sustained throughput over the kernel's duration; occupancy: achieved, % of the SM's warps.\n"
    print "| # | op (NVTX) | kernel | grid | block | duration µs | spread % | DRAM GB/s | DRAM % | SM % | occupancy % | registers | shared KiB |"
    print "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    total = 0
    for (k = 1; k <= per_step; k++) {
        lo = hi = value(k, "gpu__time_duration.sum")
        for (s = 1; s < steps; s++) {
            d = value(s * per_step + k, "gpu__time_duration.sum")
            if (d < lo) lo = d
            if (d > hi) hi = d
        }
        total += value(k, "gpu__time_duration.sum")
        shared = value(k, "launch__shared_mem_per_block_static") + value(k, "launch__shared_mem_per_block_dynamic")
        printf "| %d | %s | `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", k, op[k],
               short_name(cell[k, col["Kernel Name"]]), value(k, "launch__grid_size"),
               value(k, "launch__block_size"), fixed(value(k, "gpu__time_duration.sum") / 1e3, 1),
               fixed(lo > 0 ? 100 * (hi - lo) / lo : 0, 1), fixed(value(k, "dram__bytes.sum.per_second") / 1e9, 0),
               fixed(value(k, "gpu__dram_throughput.avg.pct_of_peak_sustained_elapsed"), 1),
               fixed(value(k, "sm__throughput.avg.pct_of_peak_sustained_elapsed"), 1),
               fixed(value(k, "sm__warps_active.avg.pct_of_peak_sustained_active"), 1),
               value(k, "launch__registers_per_thread"), fixed(shared / 1024, 1)
    }
    printf "\nSum of the layer's kernel durations: %s µs.\n", fixed(total / 1e3, 1)
}
