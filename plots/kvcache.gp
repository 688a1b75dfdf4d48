# KV-cache memory against context, one line per layout. At equal budget
# duo-* and zigzag hold the same cache: their lines lie on each other (nested
# symbols of decreasing size keep each one visible).
load plotdir.'/common.gp'
eval open(820, 580)
set title sprintf('KV cache against context — %s (%s)', on, fixed)
set logscale x 2
set logscale y 10
eval log125
eval 'set xtics '.ctx_tics
set xlabel ctxlabel
set ylabel 'KV cache, all layers (GiB, log scale)'
set format y '%g'
set autoscale yfix
set offsets 0, 0, graph 0.08, graph 0.08
# Every row the same size (one context, one budget): autoscaling has no
# range to make, and warns.
stats file using (column('kv_gib')) name 'kv' nooutput
if (kv_min == kv_max) { set yrange [kv_min / 2 : kv_max * 2] }
eval 'set xrange '.logx(xmin, xmax)
n = words(layouts)
set label 1 'where lines coincide, the layouts hold the same cache: the symbols nest' at graph 0.98, graph 0.3 right font ',9' tc rgb '#555555'
plot for [i = 1:n] file using (strcol('layout') eq word(layouts, i) ? column('ctx') : NaN):(column('kv_gib')) \
    with linespoints lw 2 dt i lc rgb lcolor(word(layouts, i)) pt lpoint(word(layouts, i)) - 1 ps 1 + 0.5 * (n - i) \
    title word(layouts, i)
