# DuoAttention's efficiency figure, on this GPU: ms per token of a decode
# step (or a chunked prefill's latency, in ms) against context, one line per
# layout, one panel per mode. The rows are model steps (zz-bench run --step
# model, as scripts/reproduce runs DuoAttention's points); a layout zz-bench
# skipped at a context (it did not fit in device memory) has no point
# there, and its line stops. Linear y from 0, as in the paper's figure.
load plotdir.'/common.gp'
np = words(panels)
eval open(np > 1 ? 1400 : 760, 580)
what = phase eq 'decode' ? 'Decode, ms per token' : 'Chunked prefill, latency'
set multiplot layout 1, np title sprintf("%s against context — %s, %s%s\nDuoAttention's points as model steps (%s)", \
    what, gpu, rmodel, layers_note, fixed)
set logscale x 2
eval 'set xtics '.rtics
set xlabel ctxlabel
set ylabel phase eq 'decode' ? 'ms per token (one decode step, all layers)' : 'prefill latency (ms, all chunks)'
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set tmargin 5
do for [m in panels] {
    set title m.' mode'
    eval 'set xrange '.logx(value('xmin_'.m), value('xmax_'.m))
    at(L) = strcol('mode') eq m && strcol('layout') eq L ? column('ctx') : NaN
    y(L) = column('median_ms')
    # A point the table lacks (zz-bench skipped it: the layout did not fit;
    # or its piece has not run) is named, as the paper marks its
    # out-of-memory bars; on two lines, so that a long list fits a panel.
    miss = value('missing_'.m)
    if (miss ne '') { set label 1 "no point (skipped or not run; summary.md says which):\n".miss at graph 0.98, graph 0.08 right font ',9' tc rgb '#555555' } \
    else { unset label 1 }
    eval "plot for [L in value('layouts_'.m)] file using (at(L)):(y(L)) with linespoints lw 2 lc rgb lcolor(L)" \
       . " pt lpoint(L) title L" . hollow(value('paced_layouts_'.m))
}
unset multiplot
