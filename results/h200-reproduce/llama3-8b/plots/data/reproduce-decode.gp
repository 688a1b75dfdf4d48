phase = 'decode'; fixed = 'B=1, sparsity 0.5'; rmodel = "llama3-8b"; layers_note = ""; rtics = '("100K" 102400, "500K" 512000, "1M" 1048576)'
layouts_eager = "full duo-cat duo-fused zigzag"
missing_eager = "full at 1M"
layouts_graph = "full duo-cat duo-fused zigzag"
missing_graph = "full at 1M"
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
