phase = 'decode'; xcol = 'ctx'; fixed = 'B=1, sparsity 0.5'
panels = "eager graph"
xmin = 32768
xmax = 32768
xmin_eager = 32768
xmax_eager = 32768
xmin_graph = 32768
xmax_graph = 32768
