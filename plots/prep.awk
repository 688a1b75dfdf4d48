# prep.awk: the small tables plots/*.gp draw, from one run folder.
#
#   awk -f scripts/csv.awk -f plots/prep.awk -v prog="plots: error" -v out=DIR -v env=RUN/env.json \
#       -v kernels=RUN/kernels.csv [-v phase=P -v mode=M -v ctx=N -v batch=B -v sparsity=S] \
#       [-v decode_kernel=NAME -v prefill_kernel=NAME] RUN/results.csv
#
# Columns are found by their header names, so their order may change. The
# lines of one plot hold everything but what it varies fixed at the reference
# configuration: the model, window and L2 of the first row, batch B (default
# the smallest), sparsity S (default the one nearest 0.5). The bar charts show
# one configuration: phase P (default decode), mode M (default graph), context
# N (default the largest of that phase). A run that swept kernel variants
# (results.csv's decode_kernel and prefill_kernel) is drawn for one variant
# per phase: NAME (default the phase's variant of its first row); the plots'
# "fixed" text names it when the run has several. Writes into DIR, each file only when
# the run has the data for it (else one "skipped" line on stderr), each
# NAME.csv with a NAME.gp of what its plot needs to know (see emit):
#   meta.gp              the GPU, model, layouts, contexts and ceilings of the run,
#                        and the rule that marked host-paced rows
#   latency-MODE         phase, layout, ctx, median_us, min_us, max_us, host_paced
#   overhead-PHASE       mode, layout, ctx, overhead_us, overhead_pct (duo-* row
#                        minus the zigzag row of the same configuration and mode),
#                        host_paced (either row)
#   overhead-batch-PHASE the same against batch (≥ 2 batches), at the largest
#                        context with the most batches
#   breakdown-P-N-M      layout, median_us, host_paced and the *_us parts of
#                        configuration P/M/N (attn_fused_us: every attn_*_us
#                        column but full and streaming; outside_us 0 for runs
#                        without that column), above_us and below_us: the bar's
#                        ends above and below 0 (above − below = median)
#   retrieval-P-N-M      layout, retrieval_ratio, median/min/max_us, host_paced
#                        (≥ 2 sparsities)
#   kvcache              layout, ctx, kv_gib
#   reproduce-PHASE      mode, layout, ctx, median_ms, min_ms, max_ms, host_paced of
#                        the model-step rows (results.csv's step "model", as
#                        scripts/reproduce runs DuoAttention's points) of the
#                        phase; their tics (20K, 1M) and each mode's layouts
#   kernels-P-N-M        per kernel: label, then the achieved fraction of its
#                        ceiling under each layout (one column per layout)
# Prints each NAME it wrote, one a line: plots/render.sh draws NAME.csv with
# plots/<NAME up to its first ->.gp.
# A row is host-paced by results.csv's host_paced column, or, in runs written
# before it, by scripts/csv.awk's fallback rule; each NAME.gp counts its
# host-paced rows (host_paced_rows), and the plots draw them hollow.
# Bad input stops with one line and exit status 2 (scripts/csv.awk): a
# results.csv without a needed column or without rows, a torn or corrupt
# row, a value that is not a number, an env.json that is missing, not JSON,
# or without the GPU's name and the ceilings.

function note(msg) { print "plots: " msg > "/dev/stderr" }

# Read a CSV file's header into col[name] = index; die naming a missing column.
function header(file, line, need, col,    f, n, i, names) {
    for (i in col) delete col[i]
    n = csv(line, f)
    for (i = 1; i <= n; i++) col[f[i]] = i
    n = split(need, names, " ")
    for (i = 1; i <= n; i++)
        if (!(names[i] in col)) csv_fail(file " has no column \"" names[i] "\"")
}

function rank(layout) {
    return layout == "full" ? 1 : layout == "streaming" ? 2 : layout == "duo-cat" ? 3 : \
           layout == "duo-slices" ? 4 : layout == "duo-gather" ? 5 : layout == "duo-fused" ? 6 : \
           layout == "zigzag" ? 7 : 8
}
function human(n) {
    return n % 1048576 == 0 ? n / 1048576 "M" : n % 1024 == 0 ? n / 1024 "K" : n
}
# A context as DuoAttention's figures write it: 20K, 500K, 1M (K and M of
# 1024 tokens, or of 1000).
function tokens(n) {
    return n % 1048576 == 0 ? n / 1048576 "M" : n % 1024 == 0 ? n / 1024 "K" : \
           n % 1000000 == 0 ? n / 1000000 "M" : n % 1000 == 0 ? n / 1000 "K" : n
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
function emit(name, cols, panel, x, vars,    names, n, i, j, line, file, r, pv, panels, lo, hi, paced, is_paced, paced_in) {
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
        if (V[r, "host_paced"] && !((pv, V[r, "layout"]) in is_paced)) {
            is_paced[pv, V[r, "layout"]] = 1
            paced_in[pv] = paced_in[pv] (paced_in[pv] == "" ? "" : " ") V[r, "layout"]
        }
        paced += V[r, "host_paced"]
        if (panel != "" && !((name, pv) in lo)) panels = panels (panels == "" ? "" : " ") pv
        if (!((name, pv) in lo) || V[r, x] + 0 < lo[name, pv]) lo[name, pv] = V[r, x] + 0
        if (!((name, pv) in hi) || V[r, x] + 0 > hi[name, pv]) hi[name, pv] = V[r, x] + 0
        if (i == 1 || V[r, x] + 0 < lo[name]) lo[name] = V[r, x] + 0
        if (i == 1 || V[r, x] + 0 > hi[name]) hi[name] = V[r, x] + 0
    }
    close(file)
    file = out "/" name ".gp"
    printf "%s\npanels = \"%s\"\nxmin = %.10g\nxmax = %.10g\n", vars, panels, lo[name], hi[name] > file
    printf "host_paced_rows = %d\npaced_layouts = \"%s\"\n", paced, paced_in[""] > file
    n = split(panels, names, " ")
    for (i = 1; i <= n; i++)
        printf "xmin_%s = %.10g\nxmax_%s = %.10g\npaced_layouts_%s = \"%s\"\n", names[i], lo[name, names[i]], \
               names[i], hi[name, names[i]], names[i], paced_in[names[i]] > file
    close(file)
    print name
    nsel = 0
}

# Does row r share the reference configuration, except in column "free"?
# Its kernel variant is always the reference variant of its phase.
function fixed(r, free,    i) {
    for (i = 1; i <= nfix; i++)
        if (fix[i] != free && !same(V[r, fix[i]], ref[fix[i]])) return 0
    return V[r, "kernel_variant"] == ref_kernel[V[r, "phase"]]
}
# The kernel variant of a row of phase p, from its phase's column ("" in
# files from before the columns: one variant per phase, unnamed).
function variant_of(p, decode_name, prefill_name) {
    return p == "decode" ? decode_name : p == "prefill" ? prefill_name : ""
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
    # What each value of results.csv must be, by column: a positive number,
    # a number, or a number or empty (the kernel times of a --no-cupti run).
    n = split("median_us min_us max_us ctx batch", list, " ")
    for (i = 1; i <= n; i++) kind[list[i]] = "positive"
    n = split("kv_bytes sparsity host_enqueue_us", list, " ")
    for (i = 1; i <= n; i++) kind[list[i]] = "number"
    n = split(PARTS " span_us outside_us", list, " ")
    for (i = 1; i <= n; i++) kind[list[i]] = "number or empty"
}

FNR == 1 {
    header(FILENAME, $0, NEED, col)
    n_header = csv($0, f)
    if (!("host_paced" in col) && !("host_enqueue_us" in col))
        csv_fail(FILENAME " has neither a \"host_paced\" nor a \"host_enqueue_us\" column")
    for (c in col) if (c ~ /^attn_.*_us$/) kind[c] = "number or empty"
    for (c in col) has_fused += c ~ /^attn_.*_us$/ && c != "attn_full_us" && c != "attn_streaming_us"
    host_rule = "host_paced" in col ? "host-paced" \
        : sprintf("host-paced (enqueue ≥ %g %% of step)", 100 * host_paced_fraction())
    next
}
{
    where = FILENAME ":" FNR
    csv_row($0, f, n_header, where)
    rows++
    for (c in col) {
        V[rows, c] = f[col[c]]
        if (kind[c] == "positive") csv_number(f[col[c]], c, where, 1)
        else if (kind[c] == "number" || (kind[c] != "" && f[col[c]] != "")) csv_number(f[col[c]], c, where)
    }
    if ("host_paced" in col) {
        if (V[rows, "host_paced"] != "0" && V[rows, "host_paced"] != "1")
            csv_fail(where ": host_paced is '" V[rows, "host_paced"] "', expected 0 or 1")
    } else V[rows, "host_paced"] = V[rows, "host_enqueue_us"] + 0 >= host_paced_fraction() * V[rows, "median_us"]
    V[rows, "host_paced"] += 0
    parts_of(rows)
    V[rows, "retrieval_ratio"] = 1 - V[rows, "sparsity"]
    V[rows, "kv_gib"] = V[rows, "kv_bytes"] / 1073741824
    if (!(V[rows, "layout"] in seen)) { seen[V[rows, "layout"]] = 1; layouts[++nlayouts] = V[rows, "layout"] }
    nphase[V[rows, "phase"]]++; nmode[V[rows, "mode"]]++
    batches[V[rows, "batch"]] = 1
    sparsities[V[rows, "sparsity"]] = 1
    if (!(V[rows, "ctx"] in ctxs)) ctxs[V[rows, "ctx"]] = 1
    kp = V[rows, "phase"]
    kv = V[rows, "kernel_variant"] = variant_of(kp, V[rows, "decode_kernel"], V[rows, "prefill_kernel"])
    if (!(kp in first_kernel)) first_kernel[kp] = kv
    if (!((kp, kv) in seen_kernel)) {
        seen_kernel[kp, kv] = 1; nkernels[kp]++
        kernel_list[kp] = kernel_list[kp] (kernel_list[kp] == "" ? "" : ", ") kv
    }
}

# The breakdown's parts of row r: attn_fused_us sums the attention columns
# other than full and streaming, outside_us is 0 where the run has no such
# column (before it, idle closed the step: the parts added up to the median).
function parts_of(r,    c, fused, outside) {
    for (c in col) if (c ~ /^attn_.*_us$/ && c != "attn_full_us" && c != "attn_streaming_us") fused += V[r, c]
    V[r, "attn_fused_us"] = fused + 0
    outside = V[r, "outside_us"] = V[r, "outside_us"] + 0
    V[r, "above_us"] = V[r, "attn_full_us"] + V[r, "attn_streaming_us"] + V[r, "attn_fused_us"] + V[r, "copy_us"] + \
        V[r, "cache_us"] + V[r, "combine_us"] + V[r, "other_us"] + V[r, "idle_us"] + (outside > 0 ? outside : 0)
    V[r, "below_us"] = V[r, "overlap_us"] + (outside < 0 ? -outside : 0)
}

END {
    if (csv_failed) exit 2
    if (!rows) csv_fail(FILENAME " has no data rows")
    read_env()

    # The reference configuration.
    for (i = 1; i <= nfix; i++) ref[fix[i]] = V[1, fix[i]]
    for (b in batches) if (b + 0 < ref["batch"] + 0) ref["batch"] = b
    for (s in sparsities) if (abs(s - 0.5) < abs(ref["sparsity"] - 0.5)) ref["sparsity"] = s
    if (batch != "") ref["batch"] = batch
    if (sparsity != "") ref["sparsity"] = sparsity
    if (phase == "") phase = "decode" in nphase ? "decode" : V[1, "phase"]
    if (mode == "") mode = "graph" in nmode ? "graph" : V[1, "mode"]
    for (p in first_kernel) {
        ref_kernel[p] = first_kernel[p]
        if (p == "decode" && decode_kernel != "") ref_kernel[p] = decode_kernel
        if (p == "prefill" && prefill_kernel != "") ref_kernel[p] = prefill_kernel
        if (!((p, ref_kernel[p]) in seen_kernel))
            csv_fail(FILENAME " has no " p " rows of kernel variant " ref_kernel[p] " (it has: " kernel_list[p] ")")
        if (nkernels[p] > 1) kernel_text = kernel_text ", " p " kernel " ref_kernel[p]
    }
    for (r = 1; r <= rows; r++)
        if (fixed(r, "") && V[r, "phase"] == phase && V[r, "mode"] == mode && V[r, "ctx"] + 0 > maxctx)
            maxctx = V[r, "ctx"] + 0
    if (!maxctx)
        csv_fail(FILENAME " has no rows at phase " phase ", mode " mode ", batch " ref["batch"] ", sparsity " ref["sparsity"])
    ctx = ctx == "" ? maxctx : count(ctx)
    at = phase " S=" human(ctx) " B=" ref["batch"]  # the configuration, in titles and file names
    config = at " sparsity " ref["sparsity"] ", " mode " mode"
    fixedtext = "B=" ref["batch"] ", sparsity " ref["sparsity"] kernel_text
    fixedbs = "fixed = '" fixedtext "'"
    one = "config = '" config "'; phase = '" phase "'"
    tag = phase "-" human(ctx) "-" mode
    for (r = 1; r <= rows && !(fixed(r, "") && V[r, "phase"] == phase && V[r, "mode"] == mode && V[r, "ctx"] + 0 == ctx); r++) ;
    if (r > rows) csv_fail(FILENAME " has no rows at " config)

    # Step latency against context, one file per mode.
    for (m in nmode) {
        for (r = 1; r <= rows; r++)
            if (fixed(r, "") && V[r, "mode"] == m) {
                pick(r); key[nsel] = V[r, "phase"] rank(V[r, "layout"]) num(V[r, "ctx"])
            }
        emit("latency-" m, "phase layout ctx median_us min_us max_us host_paced", "phase", "ctx", "mode = '" m "'; " fixedbs)
    }

    # Split overhead: each duo-* row minus the zigzag row of its configuration,
    # as a row of its own after the run's rows, host-paced if either row is.
    for (r = 1; r <= rows; r++) {
        k = ""
        for (i = 1; i <= nfix; i++) k = k "," V[r, fix[i]]
        k = k "," V[r, "phase"] "," V[r, "ctx"] "," V[r, "mode"] "," V[r, "kernel_variant"]
        rowkey[r] = k
        if (V[r, "layout"] == "zigzag") zigzag[k] = r
    }
    n_all = rows
    for (r = 1; r <= rows; r++)
        if (V[r, "layout"] ~ /^duo-/ && (rowkey[r] in zigzag)) {
            z = zigzag[rowkey[r]]
            o = ++n_all
            for (c in col) V[o, c] = V[r, c]
            V[o, "kernel_variant"] = V[r, "kernel_variant"]
            V[o, "overhead_us"] = V[r, "median_us"] - V[z, "median_us"]
            V[o, "overhead_pct"] = 100 * V[o, "overhead_us"] / V[z, "median_us"]
            V[o, "host_paced"] = V[r, "host_paced"] || V[z, "host_paced"]
            duo[o] = 1
        }
    for (p in nphase) {
        for (r in duo)
            if (V[r, "phase"] == p && fixed(r, "")) {
                pick(r); key[nsel] = V[r, "mode"] rank(V[r, "layout"]) num(V[r, "ctx"])
            }
        if (nsel) emit("overhead-" p, "mode layout ctx overhead_us overhead_pct host_paced", "mode", "ctx", \
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
        emit("overhead-batch-" p, "mode layout batch overhead_us overhead_pct host_paced", "mode", "batch", \
             sprintf("phase = '%s'; xcol = 'batch'; fixed = 'S=%s, sparsity %s'", p, human(best), ref["sparsity"]))
    }

    # One configuration: its layouts' parts, and their retrieval-ratio curve.
    for (r = 1; r <= rows; r++)
        if (fixed(r, "") && V[r, "phase"] == phase && V[r, "mode"] == mode && V[r, "ctx"] + 0 == ctx) {
            if (V[r, "attn_full_us"] == "") { nsel = 0; break }
            pick(r); key[nsel] = rank(V[r, "layout"])
        }
    if (nsel) emit("breakdown-" tag, "layout median_us host_paced attn_fused_us " PARTS " outside_us above_us below_us", \
                   "", "median_us", one "; has_outside = " ("outside_us" in col) "; has_fused = " has_fused)
    else note("breakdown: skipped (no kernel times at " config ": a --no-cupti run?)")

    nratio = 0
    for (r = 1; r <= rows; r++)
        if (fixed(r, "sparsity") && V[r, "phase"] == phase && V[r, "mode"] == mode && V[r, "ctx"] + 0 == ctx) {
            pick(r); key[nsel] = rank(V[r, "layout"]) num(V[r, "retrieval_ratio"])
            if (!(V[r, "sparsity"] in ratios)) { ratios[V[r, "sparsity"]] = 1; nratio++ }
        }
    if (nratio >= 2) emit("retrieval-" tag, "layout retrieval_ratio median_us min_us max_us host_paced", "", "retrieval_ratio", \
                           "config = '" at ", " mode " mode'; phase = '" phase "'")
    else { nsel = 0; note("retrieval: skipped (one sparsity at " config "; sweep --sparsity for this plot)") }

    # KV cache against context: one phase and mode (the cache does not depend on them).
    kvphase = "decode" in nphase ? "decode" : phase
    for (r = 1; r <= rows; r++)
        if (fixed(r, "") && V[r, "phase"] == kvphase && V[r, "mode"] == mode) {
            pick(r); key[nsel] = rank(V[r, "layout"]) num(V[r, "ctx"])
        }
    emit("kvcache", "layout ctx kv_gib", "", "ctx", fixedbs)

    # DuoAttention's efficiency figure: the model-step rows (step "model",
    # scripts/reproduce) of each phase, ms per token (decode) or the step's
    # latency (prefill) against context, one panel per mode. A layout zz-bench
    # skipped (it did not fit) has no row, so no point there. Prefill rows at
    # the chunk of the phase's first model-step row.
    nrep = 0
    for (pi = 1; pi <= 2; pi++) {
        p = pi == 1 ? "decode" : "prefill"
        pchunk = ""; rtics = ""; rlayers = ""; rmodes = ""
        for (i in rctx) delete rctx[i]
        for (i in rhas) delete rhas[i]
        for (r = 1; r <= rows; r++)
            if (V[r, "step"] == "model" && V[r, "phase"] == p && fixed(r, "chunk")) {
                if (pchunk == "") pchunk = V[r, "chunk"]
                if (!same(V[r, "chunk"], pchunk)) continue
                pick(r); key[nsel] = V[r, "mode"] rank(V[r, "layout"]) num(V[r, "ctx"])
                V[r, "median_ms"] = V[r, "median_us"] / 1000
                V[r, "min_ms"] = V[r, "min_us"] / 1000
                V[r, "max_ms"] = V[r, "max_us"] / 1000
                rctx[V[r, "ctx"] + 0] = 1
                if (!(V[r, "mode"] in rhas)) rmodes = rmodes (rmodes == "" ? "" : " ") V[r, "mode"]
                rhas[V[r, "mode"]] = 1; rhas[V[r, "mode"], V[r, "layout"]] = 1
                rhas[V[r, "mode"], V[r, "layout"], V[r, "ctx"] + 0] = 1
                if (V[r, "layers"] != "" && V[r, "model_layers"] != "" && V[r, "layers"] + 0 < V[r, "model_layers"] + 0)
                    rlayers = ", first " V[r, "layers"] " of " V[r, "model_layers"] " layers"
            }
        if (!nsel) continue
        rn = 0
        for (c in rctx) rlist[++rn] = c + 0
        for (i = 1; i <= rn; i++) for (j = i + 1; j <= rn; j++) if (rlist[j] < rlist[i]) { t = rlist[i]; rlist[i] = rlist[j]; rlist[j] = t }
        for (i = 1; i <= rn; i++) rtics = rtics (i > 1 ? ", " : "") "\"" tokens(rlist[i]) "\" " rlist[i]
        vars = sprintf("phase = '%s'; fixed = 'B=%s, sparsity %s%s%s'; rmodel = \"%s\"; layers_note = \"%s\"; rtics = '(%s)'", \
                       p, ref["batch"], ref["sparsity"], p == "prefill" ? ", chunk " tokens(pchunk) : "", kernel_text, \
                       env_model != "" ? env_model : ref["model"], rlayers, rtics)
        n = split(rmodes, names, " ")
        for (i = 1; i <= n; i++) {  # each panel's layouts, in the plots' order, and their missing points
            t = ""; miss = ""
            for (k = 1; k <= 8; k++)
                for (j = 1; j <= nlayouts; j++)
                    if (rank(layouts[j]) == k && ((names[i], layouts[j]) in rhas)) {
                        t = t (t == "" ? "" : " ") layouts[j]
                        for (c = 1; c <= rn; c++)
                            if (!((names[i], layouts[j], rlist[c]) in rhas))
                                miss = miss (miss == "" ? "" : ", ") layouts[j] " at " tokens(rlist[c])
                    }
            vars = vars "\nlayouts_" names[i] " = \"" t "\"\nmissing_" names[i] " = \"" miss "\""
        }
        emit("reproduce-" p, "mode layout ctx median_ms min_ms max_ms host_paced", "mode", "ctx", vars)
        nrep++
    }
    if (!nrep) note("reproduce: skipped (no model-step rows at " fixedtext "; scripts/reproduce runs DuoAttention's points)")

    # Kernels of the configuration: achieved fraction of the copy ceiling
    # (GB/s), or of the GEMM ceiling (TFLOP/s) for prefill attention.
    nk = 0
    if (kernels != "" && (getline line < kernels) > 0) {
        header(kernels, line, KNEED, kcol)
        n_header = csv(line, f)
        for (kline = 2; (getline line < kernels) > 0; kline++) {
            csv_row(line, f, n_header, kernels ":" kline)
            for (c in kcol) K[c] = f[kcol[c]]
            ok = K["phase"] == phase && K["mode"] == mode && K["ctx"] + 0 == ctx
            for (i = 1; i <= nfix; i++) ok = ok && same(K[fix[i]], ref[fix[i]])
            ok = ok && variant_of(K["phase"], K["decode_kernel"], K["prefill_kernel"]) == ref_kernel[K["phase"]]
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
    printf "copy_gbps = %s\ngemm_tflops = %s\n", copy_gbps, gemm_tflops > file
    printf "host_rule = \"%s\"\n", host_rule > file
    close(file)
}

# env.json, as zz-bench writes it (one member a line): the GPU's name and
# the ceilings into gpu, copy_gbps, gemm_tflops, and the model's name into
# env_model ("" if none), after a check that the file is one whole JSON
# object (strings closed, brackets matched, nothing after it), which a file
# cut short or broken by hand fails.
function read_env(    n, line, lineno, text, ingpu, inmodel, i, ch, instr, esc, open_brackets, closed) {
    while ((n = (getline line < env)) > 0) {
        text = text line "\n"
        if (line ~ /"gpu" *:/) ingpu = 1
        if (ingpu && line ~ /"name" *:/) { gpu = jsonstr(line); ingpu = 0 }
        if (line ~ /"model" *: *\{/) inmodel = 1
        if (inmodel && line ~ /"name" *:/) { env_model = jsonstr(line); inmodel = 0 }
        if (line ~ /^[ \t]*}/) ingpu = inmodel = 0
        if (line ~ /"copy_gbps" *:/) copy_gbps = jsonvalue(line)
        if (line ~ /"gemm_tflops" *:/) gemm_tflops = jsonvalue(line)
    }
    if (n < 0) csv_fail(env ": cannot read it (zz-bench run writes it beside results.csv)")
    close(env)
    if (text ~ /^[ \t\r\n]*$/) csv_fail(env ": empty")
    lineno = 1
    for (i = 1; i <= length(text); i++) {
        ch = substr(text, i, 1)
        if (ch == "\n") lineno++
        if (instr) {
            if (esc) esc = 0
            else if (ch == "\\") esc = 1
            else if (ch == "\"") instr = 0
        } else if (ch ~ /[ \t\r\n]/) continue
        else if (closed || (open_brackets == "" && ch != "{"))
            csv_fail(env ":" lineno ": not JSON: '" ch "' outside the top-level object")
        else if (ch == "\"") instr = 1
        else if (ch == "{" || ch == "[") open_brackets = open_brackets ch
        else if (ch == "}" || ch == "]") {
            if (substr(open_brackets, length(open_brackets)) != (ch == "}" ? "{" : "["))
                csv_fail(env ":" lineno ": not JSON: '" ch "' does not close the open '" substr(open_brackets, length(open_brackets)) "'")
            open_brackets = substr(open_brackets, 1, length(open_brackets) - 1)
            closed = open_brackets == ""
        }
    }
    if (!closed) csv_fail(env ":" lineno - 1 ": not JSON: the file ends inside its object (cut short?)")
    if (gpu == "") csv_fail(env ": no \"name\" in its \"gpu\" object")
    csv_number(copy_gbps, "ceilings: copy_gbps", env, 1)
    csv_number(gemm_tflops, "ceilings: gemm_tflops", env, 1)
}
function jsonstr(line) { sub(/^[^:]*: *"/, "", line); sub(/" *,? *$/, "", line); gsub(/\\"/, "\"", line); gsub(/"/, "'", line); return line }
function jsonvalue(line) { sub(/^[^:]*: */, "", line); sub(/ *,? *$/, "", line); return line }
