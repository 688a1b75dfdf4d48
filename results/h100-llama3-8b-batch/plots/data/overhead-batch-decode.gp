phase = 'decode'; xcol = 'batch'; fixed = 'S=32K, sparsity 0.5'
panels = "eager graph"
xmin = 1
xmax = 8
host_paced_rows = 0
paced_layouts = ""
xmin_eager = 1
xmax_eager = 8
paced_layouts_eager = ""
xmin_graph = 1
xmax_graph = 8
paced_layouts_graph = ""
