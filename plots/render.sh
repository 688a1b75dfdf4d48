#!/bin/sh
# render.sh RUN [OUT]: render a run folder's plots into OUT (default RUN/plots)
# as PNG and SVG. plots/prep.awk first writes the small tables the plots
# draw (OUT/data/NAME.csv, with NAME.gp and meta.gp for titles and ranges);
# then plots/<kind>.gp draws each table. PLOT_PHASE, PLOT_MODE, PLOT_CTX
# (8192 or 8K), PLOT_BATCH and PLOT_SPARSITY pick the configuration of the
# bar charts and the fixed values of the line plots (defaults: plots/prep.awk).
set -eu
run=${1:?usage: plots/render.sh RUN [OUT]}
out=${2:-$run/plots}
here=$(dirname "$0")
die() { echo "plots: error: $*" >&2; exit 1; }

[ -d "$run" ] || die "$run: no such run folder"
[ -f "$run/results.csv" ] || die "$run/results.csv: no such file"
command -v "${GNUPLOT:-gnuplot}" >/dev/null ||
    die "gnuplot not found; install it with: sudo apt-get install -y gnuplot-nox"

mkdir -p "$out/data"
tables=$(awk -f "$here/../scripts/csv.awk" -f "$here/prep.awk" -v out="$out/data" -v env="$run/env.json" -v kernels="$run/kernels.csv" \
    -v phase="${PLOT_PHASE:-}" -v mode="${PLOT_MODE:-}" -v ctx="${PLOT_CTX:-}" \
    -v batch="${PLOT_BATCH:-}" -v sparsity="${PLOT_SPARSITY:-}" "$run/results.csv")

# Each table NAME.csv → NAME.png and NAME.svg, drawn by plots/<NAME up to its first ->.gp.
for name in $tables; do
    for fmt in png svg; do
        "${GNUPLOT:-gnuplot}" -e "plotdir='$here'; data='$out/data'; out='$out'; name='$name'; fmt='$fmt'" \
            "$here/${name%%-*}.gp" || die "${name%%-*}.gp failed for $name.$fmt"
    done
    echo "plots: $out/$name.png, .svg"
done
