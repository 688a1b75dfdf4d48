# Split overhead of each duo-* layout over zigzag (the duo row minus the
# zigzag row of the same configuration and mode) against xcol (ctx or batch):
# in % of zigzag's step (top) and in time (bottom), one column per mode.
# Hollow: either row is host-paced.
load plotdir.'/common.gp'
nm = words(panels)
# The same y range in every mode, so the panels compare at a glance.
stats file using (column('overhead_pct')) name 'pct' nooutput
stats file using (column('overhead_us')/unit(phase)) name 'us' nooutput
eval open(nm > 1 ? 1300 : 720, 860)
set multiplot layout 2, nm margins 0.07, 0.98, 0.11, 0.9 spacing 0.08, 0.12 \
    title sprintf('Split overhead of duo-* over zigzag, %s — %s (%s, equal KV budget)', phase, on, fixed)
set logscale x 2
if (xcol eq 'ctx') { eval 'set xtics '.ctx_tics; set xlabel ctxlabel } else { set xtics 2; set xlabel 'batch B (log scale)' }
eval 'set xrange '.logx(xmin, xmax)
set xzeroaxis lt -1 lw 1
set key at screen 0.5, screen 0.01 center bottom horizontal nobox  # one key, under the panels
do for [q in 'overhead_pct overhead_us'] {
    u = q eq 'overhead_us' ? unit(phase) : 1.
    s = q eq 'overhead_us' ? 'us' : 'pct'
    lo = value(s.'_min') < 0 ? value(s.'_min') : 0
    hi = value(s.'_max') > 0 ? value(s.'_max') : 1
    set yrange [lo - 0.15 * (hi - lo) : hi + 0.15 * (hi - lo)]   # room for the values
    set ylabel q eq 'overhead_pct' ? 'duo − zigzag (% of zigzag)' : sprintf('duo − zigzag (%s)', uname(phase))
    do for [m in panels] {
        set title m.' mode'
        # Values: the first layout's above its points, the second's below, the third's right.
        at(L) = strcol('mode') eq m && strcol('layout') eq L ? column(xcol) : NaN
        y(L) = column(q)/u
        eval "plot for [L in duo_layouts] file using (at(L)):(y(L)) with linespoints lw 2 lc rgb lcolor(L) pt lpoint(L) title L" \
           . ", for [i = 1:words(duo_layouts)] file using (at(word(duo_layouts, i))):(y(0))" \
           . ":(sprintf(q eq 'overhead_pct' ? '%+.1f %%' : u > 1 ? '%+.1f' : '%+.0f', y(0)))" \
           . " with labels offset (i > 2 ? 4 : 0), (i > 2 ? 0 : i == 1 ? 1 : -1) tc rgb lcolor(word(duo_layouts, i)) notitle" \
           . hollow(value('paced_layouts_'.m))
        unset key
    }
}
unset multiplot
