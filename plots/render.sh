#!/bin/sh
# render.sh RUN [OUT]: render a run folder's plots into OUT (default RUN/plots)
# as PNG and SVG. plots/prep.awk first writes the small tables the plots
# draw (OUT/data/NAME.csv, with NAME.gp and meta.gp for titles and ranges);
# then plots/<kind>.gp draws each table. PLOT_PHASE, PLOT_MODE, PLOT_CTX
# (8192 or 8K), PLOT_BATCH and PLOT_SPARSITY pick the configuration of the
# bar charts and the fixed values of the line plots, PLOT_DECODE_KERNEL and
# PLOT_PREFILL_KERNEL the kernel variant drawn of a run that swept several
# (defaults: plots/prep.awk).
#
# Everything is drawn into a scratch folder inside OUT first and moved into
# place only when every table and picture succeeded, so a failure leaves
# the previous plots as they were, never a mix of new and old ones. Bad
# input (a missing or torn file, see plots/prep.awk) stops with one line
# and exit status 2; a gnuplot failure or warning with exit status 1.
# gnuplot unpacked from .debs/ into build/prefix (scripts/need-deb) is used
# before the system's; GNUPLOT names another one.
set -eu
usage="usage: plots/render.sh RUN [OUT]"
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "$usage" >&2; exit 2; }
run=$1
out=${2:-$run/plots}
here=$(dirname "$0")
die() { echo "plots: error: $*" >&2; exit 2; }

[ -d "$run" ] || die "$run: no such run folder"
for f in "$run/results.csv" "$run/env.json"; do
    [ -f "$f" ] || die "$f: no such file (zz-bench run writes it into the run folder)"
done
for f in "$run/results.csv" "$run/kernels.csv"; do
    # zz-bench writes whole lines: a last line without its newline was cut short.
    [ ! -s "$f" ] || [ -z "$(tail -c 1 "$f")" ] || die "$f:$(($(wc -l < "$f") + 1)): no newline at the end (a torn row)"
done

prefix=$here/../build/prefix
if [ -n "${GNUPLOT:-}" ]; then
    gnuplot=$GNUPLOT
elif [ -x "$prefix/usr/bin/gnuplot" ]; then
    gnuplot=$prefix/usr/bin/gnuplot
    # its libraries, unpacked beside it, that the system may lack
    LD_LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu:$prefix/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export LD_LIBRARY_PATH
else
    gnuplot=gnuplot
fi
command -v "$gnuplot" >/dev/null || { echo "plots: error: gnuplot not found; install it with: sudo apt-get install -y gnuplot-nox" >&2; exit 1; }

mkdir -p "$out"
scratch=$out/render.$$.tmp
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM
rm -rf "$scratch"
mkdir -p "$scratch/data"
if [ "$gnuplot" = "$prefix/usr/bin/gnuplot" ]; then
    # fontconfig reads /etc/fonts/fonts.conf, which a minimal system lacks:
    # this one reads it where it exists, and the fonts unpacked with gnuplot.
    fonts=$(cd "$prefix" && pwd)/usr/share/fonts
    here_scratch=$(cd "$scratch" && pwd)
    cat > "$scratch/fonts.conf" <<EOF
<?xml version="1.0"?>
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>$fonts</dir>
  <cachedir>$here_scratch/fontconfig</cachedir>
</fontconfig>
EOF
    FONTCONFIG_FILE=$here_scratch/fonts.conf
    export FONTCONFIG_FILE
fi
tables=$(awk -f "$here/../scripts/csv.awk" -f "$here/prep.awk" -v prog="plots: error" -v out="$scratch/data" \
    -v env="$run/env.json" -v kernels="$run/kernels.csv" \
    -v phase="${PLOT_PHASE:-}" -v mode="${PLOT_MODE:-}" -v ctx="${PLOT_CTX:-}" \
    -v batch="${PLOT_BATCH:-}" -v sparsity="${PLOT_SPARSITY:-}" \
    -v decode_kernel="${PLOT_DECODE_KERNEL:-}" -v prefill_kernel="${PLOT_PREFILL_KERNEL:-}" "$run/results.csv") || exit

# Each table NAME.csv → NAME.png and NAME.svg, drawn by plots/<NAME up to its first ->.gp.
# A warning (e.g. a column it cannot read) fails it too: its picture would be wrong.
for name in $tables; do
    for fmt in png svg; do
        if ! said=$("$gnuplot" -e "plotdir='$here'; data='$scratch/data'; out='$scratch'; name='$name'; fmt='$fmt'" \
                "$here/${name%%-*}.gp" 2>&1 >/dev/null) || [ -n "$said" ]; then
            echo "plots: error: ${name%%-*}.gp failed for $name.$fmt: $(printf '%s' "$said" | tr '\n' ' ')" >&2
            exit 1
        fi
    done
done

mkdir -p "$out/data"
mv -f "$scratch"/data/* "$out/data/"
for name in $tables; do
    mv -f "$scratch/$name.png" "$scratch/$name.svg" "$out/"
    echo "plots: $out/$name.png, .svg"
done
