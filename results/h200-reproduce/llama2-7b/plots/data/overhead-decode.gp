phase = 'decode'; xcol = 'ctx'; fixed = 'B=1, sparsity 0.75'
panels = "eager graph"
xmin = 20480
xmax = 204800
host_paced_rows = 0
paced_layouts = ""
xmin_eager = 20480
xmax_eager = 204800
paced_layouts_eager = ""
xmin_graph = 20480
xmax_graph = 204800
paced_layouts_graph = ""
