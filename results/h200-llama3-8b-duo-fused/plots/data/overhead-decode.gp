phase = 'decode'; xcol = 'ctx'; fixed = 'B=1, sparsity 0.5'
panels = "eager graph"
xmin = 8192
xmax = 131072
host_paced_rows = 0
paced_layouts = ""
xmin_eager = 8192
xmax_eager = 131072
paced_layouts_eager = ""
xmin_graph = 8192
xmax_graph = 131072
paced_layouts_graph = ""
