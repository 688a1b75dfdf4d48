#!/bin/sh
# profiles/ncu.sh: Nsight Compute profile of the kernels of one layout, one
# layer and one configuration of zz-bench run, picked by NVTX range, then a
# markdown summary per kernel (profiles/summarize.awk). Run `profiles/ncu.sh
# --help` for the options; `make profile PROFILE_ARGS="..."` calls it.
set -eu
here=$(dirname "$0")
die() { echo "profile: error: $*" >&2; exit 2; }

usage() {
    cat <<'EOF'
usage: profiles/ncu.sh [options] [-- zz-bench run options]

Runs one eager step of one configuration under Nsight Compute and profiles
every kernel launched inside the NVTX range of one layer of one layout
(domain zz-bench: run > configuration > layout > sample > step > layer N > op),
with the sections that explain an attention kernel: speed of light, memory
workload, launch statistics, occupancy, warp state. Writes into the output
folder: report.ncu-rep (open it in ncu-ui), raw.csv (every metric, base
units), summary.md (per kernel: duration, DRAM and SM throughput, achieved
occupancy, registers, shared memory), command.txt, ncu.log and env.json.

  --layout NAME          full, streaming, duo-cat, duo-gather, duo-slices, duo-fused, zigzag
                         (default duo-cat)
  --phase P              decode or prefill (default decode)
  --ctx S                context, k/m suffix allowed (default 32k)
  --batch N              sequences (default 1)
  --layer N              layer whose kernels are profiled (default 1)
  --clock-control MODE   ncu's --clock-control: none (default: clocks as
                         found, as zz-bench measures) or base (locked base clocks)
  --cache-control MODE   ncu's --cache-control: all (default: caches flushed before
                         each replay pass, so every kernel reads from DRAM) or none
                         (a kernel may find its inputs in L2, as the combine finds
                         the split kernel's partial results in a real step)
  --set-sections LIST    comma-separated ncu sections (default
                         SpeedOfLight,MemoryWorkloadAnalysis,LaunchStats,Occupancy,WarpStateStats)
  --out DIR              output folder (default
                         profiles/<gpu>-<layout>-<phase>-<ctx>-b<batch>-layer<N>)
  -h, --help             this help
Options after -- go to `zz-bench run` (e.g. --model llama2-7b, --pattern DIR,
--synthetic random:1, --sparsity 0.75, --chunk 4k). NCU (default ncu) and
ZZ_BENCH (default bin/zz-bench) name the programs.
EOF
}

layout=duo-cat phase=decode ctx=32k batch=1 layer=1 clock=none cache=all out=
sections=SpeedOfLight,MemoryWorkloadAnalysis,LaunchStats,Occupancy,WarpStateStats
need_value() { [ $# -ge 2 ] || die "$1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
    case $1 in
    --layout) need_value "$@"; layout=$2; shift 2 ;;
    --phase) need_value "$@"; phase=$2; shift 2 ;;
    --ctx) need_value "$@"; ctx=$2; shift 2 ;;
    --batch) need_value "$@"; batch=$2; shift 2 ;;
    --layer) need_value "$@"; layer=$2; shift 2 ;;
    --clock-control) need_value "$@"; clock=$2; shift 2 ;;
    --cache-control) need_value "$@"; cache=$2; shift 2 ;;
    --set-sections) need_value "$@"; sections=$2; shift 2 ;;
    --out) need_value "$@"; out=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    *) die "unknown option '$1' (see --help; zz-bench run options go after --)" ;;
    esac
done

case $layout in full | streaming | duo-cat | duo-gather | duo-slices | duo-fused | zigzag) ;;
*) die "--layout '$layout': expected full, streaming, duo-cat, duo-gather, duo-slices, duo-fused or zigzag" ;; esac
case $phase in decode | prefill) ;; *) die "--phase '$phase': expected decode or prefill" ;; esac
case $clock in none | base) ;; *) die "--clock-control '$clock': expected none or base" ;; esac
case $cache in all | none) ;; *) die "--cache-control '$cache': expected all or none" ;; esac
case $layer in '' | *[!0-9]*) die "--layer '$layer': expected a layer number" ;; esac
case $batch in '' | *[!0-9]* | 0) die "--batch '$batch': expected a positive whole number" ;; esac

ncu=${NCU:-ncu}
bench=${ZZ_BENCH:-bin/zz-bench}
command -v "$ncu" >/dev/null || die "Nsight Compute ($ncu) not found: put the CUDA toolkit's bin on PATH or set NCU"
[ -x "$bench" ] || die "$bench not built: run make first"

if [ -z "$out" ]; then
    gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1 |
        tr 'A-Z' 'a-z' | sed 's/^nvidia //; s/[^a-z0-9]\{1,\}/-/g; s/-$//')
    out=profiles/${gpu:-gpu}-$layout-$phase-$ctx-b$batch-layer$layer
fi
mkdir -p "$out"
rm -f "$out/report.ncu-rep"

# A warm-up step and two samples of one eager step (the fewest zz-bench
# takes; the stopping rule is met at once). The filter matches the layer's
# kernels in each of them, anywhere below the layout's range; summarize.awk
# finds the repeats and reports the first.
filter="zz-bench@$layout/*/layer $layer/"
section_flags=$(printf '%s\n' "$sections" | tr ',' '\n' | sed 's/^/--section /' | tr '\n' ' ')
set -- "$ncu" --clock-control "$clock" --cache-control "$cache" --nvtx --nvtx-include "$filter" $section_flags \
    --export "$out/report" --force-overwrite \
    "$bench" run --layouts "$layout" --phase "$phase" --ctx "$ctx" --batch "$batch" --mode eager \
    --warmup 1 --min-samples 2 --min-time 0 --max-noise 0.99 --timeout 1 --quiet \
    --out "$out/run" "$@"
printf '%s\n' "$*" >"$out/command.txt"
echo "profile: $*" >&2
"$@" >"$out/ncu.log" 2>&1 || { tail -n 20 "$out/ncu.log" >&2; die "ncu failed (log: $out/ncu.log)"; }
[ -f "$out/report.ncu-rep" ] || { tail -n 20 "$out/ncu.log" >&2; die "ncu wrote no report: no kernel matched $filter"; }

# zz-bench's own results under the profiler time replays, not steps: keep
# only its env.json (GPU, driver, commit).
mv "$out/run/env.json" "$out/env.json" 2>/dev/null || true
rm -rf "$out/run"

"$ncu" --import "$out/report.ncu-rep" --page raw --csv --print-units base >"$out/raw.csv" ||
    die "ncu could not export $out/report.ncu-rep"
title="$layout, $phase, ctx $ctx, batch $batch, layer $layer (clock-control $clock, cache-control $cache)"
awk -f "$here/../scripts/csv.awk" -f "$here/summarize.awk" -v title="$title" -v command="$(cat "$out/command.txt")" "$out/raw.csv" >"$out/summary.md.tmp"
mv "$out/summary.md.tmp" "$out/summary.md"
cat "$out/summary.md"
echo "profile: wrote $out/summary.md, raw.csv, report.ncu-rep" >&2
