# prep.awk: the small tables plots/*.gp draw, from one run folder.
#
#   awk -f scripts/csv.awk -f plots/prep.awk -v out=DIR -v env=RUN/env.json -v kernels=RUN/kernels.csv \
#       [-v phase=P -v mode=M -v ctx=N -v batch=B -v sparsity=S] RUN/results.csv
#
# Columns are found by their header names, so their order may change. The
# lines of one plot hold everything but what it varies fixed at the reference
# configuration: the model, window and L2 of the first row, batch B (default
# the smallest), sparsity S (default the one nearest 0.5). The bar charts show
# one configuration: phase P (default decode), mode M (default graph), context
# N (default the largest of that phase). Writes into DIR, each file only when
# the run has the data for it (else one "skipped" line on stderr), each
# NAME.csv with a NAME.gp of what its plot needs to know (see emit):
#   meta.gp              the GPU, model, layouts, contexts and ceilings of the run
#   latency-MODE         phase, layout, ctx, median_us, min_us, max_us
#   overhead-PHASE       mode, layout, ctx, overhead_us, overhead_pct (duo-* row
#                        minus the zigzag row of the same configuration and mode)
#   overhead-batch-PHASE the same against batch (≥ 2 batches), at the largest
#                        context with the most batches
#   breakdown-P-N-M      layout, median_us and the *_us parts of configuration P/M/N
#   retrieval-P-N-M      layout, retrieval_ratio, median/min/max_us (≥ 2 sparsities)
#   kvcache              layout, ctx, kv_gib
#   kernels-P-N-M        per kernel: label, then the achieved fraction of its
#                        ceiling under each layout (one column per layout)
# Prints each NAME it wrote, one a line: plots/render.sh draws NAME.csv with
# plots/<NAME up to its first ->.gp.
# A results.csv without a needed column or without rows stops with one line.

function die(msg) {
    print "plots: error: " msg > "/dev/stderr"
    failed = 1
    exit 1
}
function note(msg) { print "plots: " msg > "/dev/stderr" }

# Read a CSV file's header into col[name] = index; die naming a missing column.
function header(file, line, need, col,    f, n, i, names) {
    for (i in col) delete col[i]
    n = csv(line, f)
    for (i = 1; i <= n; i++) col[f[i]] = i
    n = split(need, names, " ")
    for (i = 1; i <= n; i++)
        if (!(names[i] in col)) die(file " has no column \"" names[i] "\"")
}

function rank(layout) {
    return layout == "full" ? 1 : layout == "streaming" ? 2 : layout == "duo-cat" ? 3 : \
           layout == "duo-slices" ? 4 : layout == "duo-gather" ? 5 : layout == "zigzag" ? 6 : 7
}
function human(n) {
    return n % 1048576 == 0 ? n / 1048576 "M" : n % 1024 == 0 ? n / 1024 "K" : n
}
function abs(x) { return x < 0 ? -x : x }

# Rows 1..nsel of sel[] in the order of their keys key[] (insertion sort).
function sortsel(   i, j, r, k) {
    for (i = 2; i <= nsel; i++) {
        r = sel[i]; k = key[i]
        for (j = i - 1; j >= 1 && key[j] > k; j--) { sel[j + 1] = sel[j]; key[j + 1] = key[j] }
        sel[j + 1] = r; key[j + 1] = k
    }
}
function pick(r) { sel[++nsel] = r }
function num(x) { return sprintf("%016.6f", x) }  # sorts as text

# Write the selected rows' columns (space-separated names of V[row, name])
# to DIR/NAME.csv, and to DIR/NAME.gp the gnuplot assignments vars, the
# values of column "panel" in order (panels = "decode prefill") and the range
# of column x, in all and per panel (xmin, xmax, xmin_decode, …), so that a
# plot draws no empty panel and no empty range.
function emit(name, cols, panel, x, vars,    names, n, i, j, line, file, r, pv, panels, lo, hi) {
    if (!nsel) { note(name ": skipped (no rows at " fixedtext ")"); return }
    sortsel()
    file = out "/" name ".csv"
    n = split(cols, names, " ")
    line = names[1]
    for (j = 2; j <= n; j++) line = line "," names[j]
    print line > file
    for (i = 1; i <= nsel; i++) {
        r = sel[i]
        line = V[r, names[1]]
        for (j = 2; j <= n; j++) line = line "," V[r, names[j]]
        print line > file
        pv = panel == "" ? "" : V[r, panel]
        if (panel != "" && !((name, pv) in lo)) panels = panels (panels == "" ? "" : " ") pv
        if (!((name, pv) in lo) || V[r, x] + 0 < lo[name, pv]) lo[name, pv] = V[r, x] + 0
        if (!((name, pv) in hi) || V[r, x] + 0 > hi[name, pv]) hi[name, pv] = V[r, x] + 0
        if (i == 1 || V[r, x] + 0 < lo[name]) lo[name] = V[r, x] + 0
        if (i == 1 || V[r, x] + 0 > hi[name]) hi[name] = V[r, x] + 0
    }
    close(file)
    file = out "/" name ".gp"
    printf "%s\npanels = \"%s\"\nxmin = %.10g\nxmax = %.10g\n", vars, panels, lo[name], hi[name] > file
    n = split(panels, names, " ")
    for (i = 1; i <= n; i++)
        printf "xmin_%s = %.10g\nxmax_%s = %.10g\n", names[i], lo[name, names[i]], names[i], hi[name, names[i]] > file
    close(file)
    print name
    nsel = 0
}

# Does row r share the reference configuration, except in column "free"?
function fixed(r, free,    i) {
    for (i = 1; i <= nfix; i++)
        if (fix[i] != free && !same(V[r, fix[i]], ref[fix[i]])) return 0
    return 1
}
function same(a, b) {  # equal as text, or as numbers (0.50 is 0.5)
    return a == b || (a ~ /^[-+.0-9eE]+$/ && b ~ /^[-+.0-9eE]+$/ && a + 0 == b + 0)
}
function count(s) {  # "128K" → 131072
    return s ~ /[kK]$/ ? s * 1024 : s ~ /[mM]$/ ? s * 1048576 : s + 0
}

BEGIN {
    FIXED = "model chunk sink recent l2 batch sparsity"
    nfix = split(FIXED, fix, " ")
    PARTS = "attn_full_us attn_streaming_us copy_us cache_us combine_us other_us idle_us overlap_us"
    NEED = "phase ctx layout mode kv_bytes median_us min_us max_us " FIXED " " PARTS
    KNEED = "model phase batch ctx chunk sink recent sparsity layout mode l2 kernel category copy_fraction gemm_fraction tflops"
}

FNR == 1 { header(FILENAME, $0, NEED, col); next }
{
    n = csv($0, f)
    if (n < 2) next
    rows++
    for (c in col) V[rows, c] = f[col[c]]
    V[rows, "retrieval_ratio"] = 1 - V[rows, "sparsity"]
    V[rows, "kv_gib"] = V[rows, "kv_bytes"] / 1073741824
    if (!(V[rows, "layout"] in seen)) { seen[V[rows, "layout"]] = 1; layouts[++nlayouts] = V[rows, "layout"] }
    nphase[V[rows, "phase"]]++; nmode[V[rows, "mode"]]++
    batches[V[rows, "batch"]] = 1
    sparsities[V[rows, "sparsity"]] = 1
    if (!(V[rows, "ctx"] in ctxs)) ctxs[V[rows, "ctx"]] = 1
}

END {
    if (failed) exit 1
    if (!rows) die(FILENAME " has no data rows")

    # The reference configuration.
    for (i = 1; i <= nfix; i++) ref[fix[i]] = V[1, fix[i]]
    for (b in batches) if (b + 0 < ref["batch"] + 0) ref["batch"] = b
    for (s in sparsities) if (abs(s - 0.5) < abs(ref["sparsity"] - 0.5)) ref["sparsity"] = s
    if (batch != "") ref["batch"] = batch
    if (sparsity != "") ref["sparsity"] = sparsity
    if (phase == "") phase = "decode" in nphase ? "decode" : V[1, "phase"]
    if (mode == "") mode = "graph" in nmode ? "graph" : V[1, "mode"]
    for (r = 1; r <= rows; r++)
        if (fixed(r, "") && V[r, "phase"] == phase && V[r, "mode"] == mode && V[r, "ctx"] + 0 > maxctx)
            maxctx = V[r, "ctx"] + 0
    if (!maxctx)
        die(FILENAME " has no rows at phase " phase ", mode " mode ", batch " ref["batch"] ", sparsity " ref["sparsity"])
    ctx = ctx == "" ? maxctx : count(ctx)
    at = phase " S=" human(ctx) " B=" ref["batch"]  # the configuration, in titles and file names
    config = at " sparsity " ref["sparsity"] ", " mode " mode"
    fixedtext = "B=" ref["batch"] ", sparsity " ref["sparsity"]
    fixedbs = "fixed = '" fixedtext "'"
    one = "config = '" config "'; phase = '" phase "'"
    tag = phase "-" human(ctx) "-" mode
    for (r = 1; r <= rows && !(fixed(r, "") && V[r, "phase"] == phase && V[r, "mode"] == mode && V[r, "ctx"] + 0 == ctx); r++) ;
    if (r > rows) die(FILENAME " has no rows at " config)

    # Step latency against context, one file per mode.
    for (m in nmode) {
        for (r = 1; r <= rows; r++)
            if (fixed(r, "") && V[r, "mode"] == m) {
                pick(r); key[nsel] = V[r, "phase"] rank(V[r, "layout"]) num(V[r, "ctx"])
            }
        emit("latency-" m, "phase layout ctx median_us min_us max_us", "phase", "ctx", "mode = '" m "'; " fixedbs)
    }

    # Split overhead: each duo-* row minus the zigzag row of its configuration.
    for (r = 1; r <= rows; r++) {
        k = ""
        for (i = 1; i <= nfix; i++) k = k "," V[r, fix[i]]
        k = k "," V[r, "phase"] "," V[r, "ctx"] "," V[r, "mode"]
        rowkey[r] = k
        if (V[r, "layout"] == "zigzag") zigzag[k] = r
    }
    for (r = 1; r <= rows; r++)
        if (V[r, "layout"] ~ /^duo-/ && (rowkey[r] in zigzag)) {
            z = zigzag[rowkey[r]]
            V[r, "overhead_us"] = V[r, "median_us"] - V[z, "median_us"]
            V[r, "overhead_pct"] = 100 * V[r, "overhead_us"] / V[z, "median_us"]
            duo[r] = 1
        }
    for (p in nphase) {
        for (r in duo)
            if (V[r, "phase"] == p && fixed(r, "")) {
                pick(r); key[nsel] = V[r, "mode"] rank(V[r, "layout"]) num(V[r, "ctx"])
            }
        if (nsel) emit("overhead-" p, "mode layout ctx overhead_us overhead_pct", "mode", "ctx", \
                      "phase = '" p "'; xcol = 'ctx'; " fixedbs)
        else note("overhead-" p ": skipped (no duo-* row with a zigzag row of the same configuration)")
        # Against batch: at the largest context with the most batches.
        best = 0
        for (r in duo)
            if (V[r, "phase"] == p && fixed(r, "batch") && !((p, V[r, "ctx"], V[r, "batch"]) in nb)) {
                nb[p, V[r, "ctx"], V[r, "batch"]] = 1
                c = V[r, "ctx"] + 0
                if (++nbc[p, c] > nbc[p, best] || (nbc[p, c] == nbc[p, best] && c > best)) best = c
            }
        if (nbc[p, best] < 2) continue
        for (r in duo)
            if (V[r, "phase"] == p && fixed(r, "batch") && V[r, "ctx"] + 0 == best) {
                pick(r); key[nsel] = V[r, "mode"] rank(V[r, "layout"]) num(V[r, "batch"])
            }
        emit("overhead-batch-" p, "mode layout batch overhead_us overhead_pct", "mode", "batch", \
             sprintf("phase = '%s'; xcol = 'batch'; fixed = 'S=%s, sparsity %s'", p, human(best), ref["sparsity"]))
    }

    # One configuration: its layouts' parts, and their retrieval-ratio curve.
    for (r = 1; r <= rows; r++)
        if (fixed(r, "") && V[r, "phase"] == phase && V[r, "mode"] == mode && V[r, "ctx"] + 0 == ctx) {
            if (V[r, "attn_full_us"] == "") { nsel = 0; break }
            pick(r); key[nsel] = rank(V[r, "layout"])
        }
    if (nsel) emit("breakdown-" tag, "layout median_us " PARTS, "", "median_us", one)
    else note("breakdown: skipped (no kernel times at " config ": a --no-cupti run?)")

    nratio = 0
    for (r = 1; r <= rows; r++)
        if (fixed(r, "sparsity") && V[r, "phase"] == phase && V[r, "mode"] == mode && V[r, "ctx"] + 0 == ctx) {
            pick(r); key[nsel] = rank(V[r, "layout"]) num(V[r, "retrieval_ratio"])
            if (!(V[r, "sparsity"] in ratios)) { ratios[V[r, "sparsity"]] = 1; nratio++ }
        }
    if (nratio >= 2) emit("retrieval-" tag, "layout retrieval_ratio median_us min_us max_us", "", "retrieval_ratio", \
                           "config = '" at ", " mode " mode'; phase = '" phase "'")
    else { nsel = 0; note("retrieval: skipped (one sparsity at " config "; sweep --sparsity for this plot)") }

    # KV cache against context: one phase and mode (the cache does not depend on them).
    kvphase = "decode" in nphase ? "decode" : phase
    for (r = 1; r <= rows; r++)
        if (fixed(r, "") && V[r, "phase"] == kvphase && V[r, "mode"] == mode) {
            pick(r); key[nsel] = rank(V[r, "layout"]) num(V[r, "ctx"])
        }
    emit("kvcache", "layout ctx kv_gib", "", "ctx", fixedbs)

    # Kernels of the configuration: achieved fraction of the copy ceiling
    # (GB/s), or of the GEMM ceiling (TFLOP/s) for prefill attention.
    nk = 0
    if (kernels != "" && (getline line < kernels) > 0) {
        header(kernels, line, KNEED, kcol)
        while ((getline line < kernels) > 0) {
            if (csv(line, f) < 2) continue
            for (c in kcol) K[c] = f[kcol[c]]
            ok = K["phase"] == phase && K["mode"] == mode && K["ctx"] + 0 == ctx
            for (i = 1; i <= nfix; i++) ok = ok && same(K[fix[i]], ref[fix[i]])
            if (!ok) continue
            gemm = K["phase"] == "prefill" && K["tflops"] != ""
            frac = gemm ? K["gemm_fraction"] : K["copy_fraction"]
            if (frac == "") continue
            name = K["kernel"]  # _Z19decode_split_kernelILi128E… or void copy<a, b>(int) → the name
            if (match(name, /^_Z[0-9]+/)) name = substr(name, RLENGTH + 1, substr(name, 3, RLENGTH - 2))
            else { sub(/^void /, "", name); sub(/[<(].*$/, "", name); gsub(/[ ",]/, "", name) }
            label = K["category"] " " name (gemm ? " (TFLOP/s)" : " (GB/s)")
            if (!(label in krow)) { krow[label] = ++nk; klabel[nk] = label; kkey[nk] = K["category"] "," name }
            kfrac[krow[label], K["layout"]] = frac
        }
        close(kernels)
    }
    if (nk) {
        file = out "/kernels-" tag ".csv"
        line = "kernel"
        for (i = 1; i <= nlayouts; i++) line = line "," layouts[i]
        print line > file
        for (j = 1; j <= nk; j++) {  # sorted by category, then kernel
            for (i = j + 1; i <= nk; i++)
                if (kkey[i] < kkey[j]) { t = kkey[i]; kkey[i] = kkey[j]; kkey[j] = t; t = klabel[i]; klabel[i] = klabel[j]; klabel[j] = t }
            line = klabel[j]
            for (i = 1; i <= nlayouts; i++) line = line "," kfrac[krow[klabel[j]], layouts[i]]
            print line > file
        }
        close(file)
        file = out "/kernels-" tag ".gp"
        print one > file
        close(file)
        print "kernels-" tag
    } else note("kernels: skipped (no kernel rows with GB/s or TFLOP/s at " config ")")

    # meta.gp: what the scripts print in titles and iterate over.
    gpu = "unknown GPU"
    while (env != "" && (getline line < env) > 0) {
        if (line ~ /"gpu" *:/) ingpu = 1
        if (ingpu && line ~ /"name" *:/) { gpu = jsonstr(line); ingpu = 0 }
        if (line ~ /"copy_gbps" *:/) copy_gbps = jsonnum(line)
        if (line ~ /"gemm_tflops" *:/) gemm_tflops = jsonnum(line)
    }
    for (i = 1; i <= nlayouts; i++)  # canonical order
        for (j = i + 1; j <= nlayouts; j++)
            if (rank(layouts[j]) < rank(layouts[i]) || (rank(layouts[j]) == rank(layouts[i]) && layouts[j] < layouts[i])) {
                t = layouts[i]; layouts[i] = layouts[j]; layouts[j] = t
            }
    for (i = 1; i <= nlayouts; i++) {
        all = all (i > 1 ? " " : "") layouts[i]
        if (layouts[i] ~ /^duo-/) duos = duos (duos != "" ? " " : "") layouts[i]
    }
    n = 0
    for (c in ctxs) list[++n] = c + 0
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (list[j] < list[i]) { t = list[i]; list[i] = list[j]; list[j] = t }
    for (i = 1; i <= n; i++) tics = tics (i > 1 ? ", " : "") "\"" human(list[i]) "\" " list[i]
    file = out "/meta.gp"
    printf "gpu = \"%s\"\nmodel = \"%s\"\n", gpu, ref["model"] > file
    printf "layouts = \"%s\"\nduo_layouts = \"%s\"\n", all, duos > file
    printf "ctx_tics = '(%s)'\n", tics > file
    printf "copy_gbps = %s\ngemm_tflops = %s\n", copy_gbps + 0, gemm_tflops + 0 > file
    close(file)
}

function jsonstr(line) { sub(/^[^:]*: *"/, "", line); sub(/" *,? *$/, "", line); gsub(/\\"/, "\"", line); gsub(/"/, "'", line); return line }
function jsonnum(line) { sub(/^[^:]*: */, "", line); sub(/ *,? *$/, "", line); return line + 0 }
