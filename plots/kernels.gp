# Per kernel of one configuration, the achieved fraction of the card's
# ceiling (env.json): GB/s over the copy ceiling for memory-bound kernels,
# TFLOP/s over the GEMM ceiling for prefill attention; one bar per layout.
load plotdir.'/common.gp'
eval open(1100, 620)
set title sprintf("Kernels against the card's ceilings: %s — %s\n(copy %.0f GB/s, bf16 GEMM %.0f TFLOP/s, measured by the run)", \
    config, on, copy_gbps, gemm_tflops)
set ylabel 'achieved fraction of the ceiling (log scale)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border rgb '#444444'
set logscale y 10
set yrange [1e-4 : 2]
set format y '%g'
set ytics ('0.01 %%' 1e-4, '0.1 %%' 1e-3, '1 %%' 0.01, '10 %%' 0.1, '100 %%' 1)
set grid ytics
set key outside right top vertical nobox
set xtics nomirror scale 0
set bmargin 5
lines(s) = (k = strstrt(s, ' ')) ? s[1:k-1]."\n".lines(s[k+1:]) : s   # one word a line
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 lc rgb 'black'
plot for [L in layouts] file using (column(L)):xtic(lines(strcol('kernel'))) lc rgb lcolor(L) title L
