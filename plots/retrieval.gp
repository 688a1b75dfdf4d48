# Step latency against the retrieval ratio (1 − sparsity: the fraction of KV
# heads that keep the full cache) at one context: DuoAttention's efficiency
# curve, with full (ratio 1) and streaming (ratio 0) as the bounds.
load plotdir.'/common.gp'
eval open(820, 580)
set title sprintf("Step latency against the retrieval ratio — %s\n%s (bars: min–max)", on, config)
set xlabel 'retrieval ratio = 1 − sparsity (fraction of KV heads with the full cache)'
set ylabel sprintf('step latency, all layers (%s)', uname(phase))
set xrange [-0.05 : 1.05]
set xtics 0.1
set offsets 0, 0, graph 0.08, graph 0.08
at(L) = strcol('layout') eq L ? column('retrieval_ratio') : NaN
y(L) = column('median_us')/unit(phase)
eval "plot for [L in layouts] file using (at(L)):(y(L)):(column('min_us')/unit(phase)):(column('max_us')/unit(phase))" \
   . " with yerrorlines lw 2 lc rgb lcolor(L) pt lpoint(L) title L" . hollow(paced_layouts)
