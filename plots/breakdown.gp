# Where one configuration's median step goes, one stacked bar per layout:
# above 0, kernel time by category plus idle (the gaps inside the span from
# first kernel start to last kernel end), plus "outside" (the median step
# beyond the span: launch to first kernel, last kernel to event) when it is
# positive; below 0, the overlap (kernels running at the same time) and a
# negative outside (CUPTI's span longer than the clean median step). Bar
# above 0 − bar below 0 = the median step (the black tick). Runs written
# before the outside_us column have none (has_outside 0): their idle closed
# the step. attn-fused (every attn_*_us column but full and streaming) is
# keyed when the run has such a column (has_fused). Host-paced layouts say
# so under their name.
load plotdir.'/common.gp'
u = unit(phase)
eval open(1000, 620)
set title sprintf("Where the median step goes: %s — %s\n(bar above 0 − bar below 0 = median step)", config, on)
set ylabel sprintf('time in the median step, all layers (%s)', uname(phase))
set style data histograms
set style histogram rowstacked
set style fill solid 0.9 border rgb '#444444'
set boxwidth 0.6
set key outside right top vertical noopaque nobox
set xtics nomirror scale 0
set xzeroaxis lt -1
set autoscale yfix
set offsets 0, 0, graph 0.1, graph 0.08
label(L) = L.(column('host_paced') > 0 ? "\n(host-paced)" : '')
plot file using (column('attn_full_us')/u):xtic(label(strcol('layout'))) lc rgb '#1f4e99' title 'attn-full', \
     '' using (column('attn_streaming_us')/u) lc rgb '#7fb2e5' title 'attn-streaming', \
     '' using (column('attn_fused_us')/u) lc rgb '#17becf' title (has_fused ? 'attn-fused' : ''), \
     '' using (column('copy_us')/u) lc rgb '#d62728' title 'copy', \
     '' using (column('cache_us')/u) lc rgb '#ff9f1c' title 'cache', \
     '' using ((column('combine_us') + column('other_us'))/u) lc rgb '#2ca02c' title 'combine + other', \
     '' using (column('idle_us')/u) lc rgb '#d9d9d9' title (has_outside ? 'idle (gaps in the span)' : 'idle (step − kernels)'), \
     '' using (column('outside_us')/u) fs pattern 2 lc rgb '#8c564b' title (has_outside ? 'outside the span' : ''), \
     '' using (-column('overlap_us')/u) fs pattern 4 lc rgb '#666666' title 'overlap (−)', \
     '' using ($0 - 0.38):(column('median_us')/u):(0.76):(0) with vectors nohead lw 3 lc rgb 'black' title 'median step', \
     '' using 0:(column('above_us')/u):(sprintf(u > 1 ? '%.2f' : '%.0f', column('median_us')/u)) \
        with labels offset 0, 0.8 notitle, \
     '' using 0:(-column('below_us')/u):(column('below_us') > 0 ? sprintf(u > 1 ? '−%.2f' : '−%.0f', column('below_us')/u) : '') \
        with labels offset 0, -0.8 textcolor rgb '#666666' notitle
