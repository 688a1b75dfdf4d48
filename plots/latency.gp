# Step latency against context, one line per layout; decode and prefill side
# by side; error bars from the fastest to the slowest sample.
load plotdir.'/common.gp'
np = words(panels)
eval open(np > 1 ? 1400 : 760, 580)
set multiplot layout 1, np title sprintf('Step latency against context, %s mode — %s (%s; bars: min–max)', \
    mode, on, fixed)
set logscale x 2
set logscale y 10
eval 'set xtics '.ctx_tics
set xlabel ctxlabel
set autoscale yfix
set offsets 0, 0, graph 0.04, graph 0.04
eval log125
do for [ph in panels] {
    set title ph
    eval 'set xrange '.logx(value('xmin_'.ph), value('xmax_'.ph))
    set ylabel sprintf('step latency, all layers (%s, log scale)', uname(ph))
    at(L) = strcol('phase') eq ph && strcol('layout') eq L ? column('ctx') : NaN
    y(L) = column('median_us')/unit(ph)
    eval "plot for [L in layouts] file using (at(L)):(y(L)):(column('min_us')/unit(ph)):(column('max_us')/unit(ph))" \
       . " with yerrorlines lw 2 lc rgb lcolor(L) pt lpoint(L) title L" . hollow(value('paced_layouts_'.ph))
    unset key   # one legend is enough
}
unset multiplot
