#!/bin/sh
# profiles/nsys.sh: Nsight Systems timeline of zz-bench run's measured region
# (cudaProfilerStart/Stop), with CUDA and NVTX traced, then the kernel and
# NVTX-range summaries. Run `profiles/nsys.sh --help` for the options.
set -eu
die() { echo "profile: error: $*" >&2; exit 2; }

usage() {
    cat <<'EOF'
usage: profiles/nsys.sh [--out DIR] [-- zz-bench run options]

Records `zz-bench run` under Nsight Systems: --trace=cuda,nvtx, capture
range cudaProfilerApi (the sweep itself, not start-up or the ceilings).
Writes DIR/timeline.nsys-rep (open it in nsys-ui: NVTX domain zz-bench,
ranges run > configuration > layout > sample > step > layer N > op), then
prints `nsys stats` of the GPU kernels and the NVTX ranges and keeps them as
DIR/stats_*.csv. zz-bench switches its own CUPTI off under the profiler.

  --out DIR    output folder (default profiles/nsys-<YYYYmmdd-HHMMSS>)
  -h, --help   this help
Options after -- go to `zz-bench run`; the default is one short decode
configuration: --phase decode --ctx 32k --layouts duo-cat,zigzag --mode eager
--min-samples 5 --min-time 0 --timeout 2. NSYS (default nsys) and ZZ_BENCH
(default bin/zz-bench) name the programs.
EOF
}

out=
while [ $# -gt 0 ]; do
    case $1 in
    --out) [ $# -ge 2 ] || die "--out needs a value"; out=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    *) die "unknown option '$1' (see --help; zz-bench run options go after --)" ;;
    esac
done
[ $# -gt 0 ] || set -- --phase decode --ctx 32k --layouts duo-cat,zigzag --mode eager --min-samples 5 --min-time 0 --timeout 2

nsys=${NSYS:-nsys}
bench=${ZZ_BENCH:-bin/zz-bench}
command -v "$nsys" >/dev/null ||
    die "Nsight Systems ($nsys) not found: install it (it ships apart from the CUDA toolkit's nvcc) or set NSYS"
[ -x "$bench" ] || die "$bench not built: run make first"
out=${out:-profiles/nsys-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"

"$nsys" profile --trace=cuda,nvtx --capture-range=cudaProfilerApi --capture-range-end=stop \
    --force-overwrite=true --output "$out/timeline" "$bench" run --quiet --out "$out/run" "$@" ||
    die "nsys profile failed"
[ -f "$out/timeline.nsys-rep" ] || die "nsys wrote no $out/timeline.nsys-rep"
"$nsys" stats --force-export=true --report cuda_gpu_kern_sum,nvtx_sum --format csv,column \
    --output "$out/stats,-" "$out/timeline.nsys-rep" || die "nsys stats failed on $out/timeline.nsys-rep"
echo "profile: wrote $out/timeline.nsys-rep and $out/stats_*.csv" >&2
