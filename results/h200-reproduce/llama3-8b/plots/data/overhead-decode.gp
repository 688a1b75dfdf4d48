phase = 'decode'; xcol = 'ctx'; fixed = 'B=1, sparsity 0.5'
panels = "eager graph"
xmin = 102400
xmax = 1048576
host_paced_rows = 0
paced_layouts = ""
xmin_eager = 102400
xmax_eager = 1048576
paced_layouts_eager = ""
xmin_graph = 102400
xmax_graph = 1048576
paced_layouts_graph = ""
