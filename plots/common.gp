# common.gp: loaded first by every plots/*.gp. plots/render.sh sets
#   plotdir  this folder          data  the prepared tables (prep.awk)
#   out      the output folder    name  the plot's name: data/NAME.csv → out/NAME.FMT
#   fmt      png or svg
load data.'/meta.gp'
load data.'/'.name.'.gp'     # panels, xmin, xmax (see plots/prep.awk)
file = data.'/'.name.'.csv'
set datafile separator comma
set datafile columnheaders   # column("median_us") finds columns by header name
set datafile missing NaN     # rows a filter drops do not break a line

# open(w, h): the command that opens the output (eval it), the same look in PNG and SVG.
open(w, h) = (fmt eq 'svg' \
    ? sprintf("set terminal svg size %d,%d dynamic noenhanced font 'DejaVu Sans,12' background rgb 'white'", w, h) \
    : sprintf("set terminal pngcairo size %d,%d noenhanced font 'DejaVu Sans,11'", w, h)) \
    . sprintf("; set output '%s/%s.%s'", out, name, fmt)

# One colour and point type per layout, the same in every plot.
lcolor(L) = L eq 'full' ? '#222222' : L eq 'streaming' ? '#8c8c8c' : L eq 'duo-cat' ? '#d62728' : \
            L eq 'duo-slices' ? '#ff7f0e' : L eq 'duo-gather' ? '#9467bd' : L eq 'duo-fused' ? '#2ca02c' : \
            L eq 'zigzag' ? '#1f77b4' : '#7f7f7f'
lpoint(L) = L eq 'full' ? 5 : L eq 'streaming' ? 13 : L eq 'duo-cat' ? 7 : \
            L eq 'duo-slices' ? 9 : L eq 'duo-gather' ? 11 : L eq 'duo-fused' ? 3 : L eq 'zigzag' ? 15 : 1

# Host-paced rows (column host_paced 1: the latency follows the CPU's launch
# rate) are drawn hollow. A plot defines at(L), the x of layout L's points
# (NaN on other rows), and y(L), and evals its plot command with
# hollow(list) appended, list being the layouts with host-paced rows in the
# panel (paced_layouts[_PANEL] of NAME.gp): each one's host-paced points
# again, filled white, then outlined (point type lpoint − 1 is the hollow
# one), and their entry in the key when the table has any. Only layouts
# with such points get a clause: gnuplot warns about one that draws nothing,
# even in an empty iteration.
paced(x) = column('host_paced') > 0 ? x : NaN
hollow_points(L) = sprintf(", file using (paced(at('%s'))):(y('%s')) with points pt %d lc rgb 'white' notitle", \
                           L, L, lpoint(L)) \
                 . sprintf(", file using (paced(at('%s'))):(y('%s')) with points pt %d lc rgb '%s' notitle", \
                           L, L, lpoint(L) - 1, lcolor(L))
hollow_from(list, i) = i > words(list) ? '' : hollow_points(word(list, i)) . hollow_from(list, i + 1)
hollow(list) = hollow_from(list, 1) . (host_paced_rows > 0 ? \
    sprintf(", NaN with points pt 6 lc rgb '#444444' title 'hollow: %s'", host_rule) : '')

# A log-scale x range with room around the points: eval 'set xrange '.logx(lo, hi)
logx(lo, hi) = sprintf('[%g:%g]', lo / 1.4, hi * 1.4)

# Titles name the GPU and the model; decode times in µs, prefill in ms.
on = gpu.', '.model
unit(ph) = ph eq 'prefill' ? 1000. : 1.
uname(ph) = ph eq 'prefill' ? 'ms' : 'µs'
ctxlabel = 'context length S (tokens, log scale)'

set grid lc rgb '#dddddd'
set border lc rgb '#444444'
set key top left box opaque samplen 2 spacing 1.1
set pointsize 1.2
set format y '%g'

# Labelled tics at 1, 2 and 5 × 10^n on a log-scale y axis.
log125 = 'set ytics; do for [e = -6:9] { set ytics add (2*10.**e, 5*10.**e) }'
