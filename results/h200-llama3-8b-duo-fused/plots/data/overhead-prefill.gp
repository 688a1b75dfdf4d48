phase = 'prefill'; xcol = 'ctx'; fixed = 'B=1, sparsity 0.5'
panels = "eager graph"
xmin = 8192
xmax = 32768
host_paced_rows = 0
paced_layouts = ""
xmin_eager = 8192
xmax_eager = 32768
paced_layouts_eager = ""
xmin_graph = 8192
xmax_graph = 32768
paced_layouts_graph = ""
