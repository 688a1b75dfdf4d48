phase = 'decode'; fixed = 'B=1, sparsity 0.75'; rmodel = "llama2-7b"; layers_note = ""; rtics = '("20K" 20480, "120K" 122880, "200K" 204800)'
layouts_graph = "full duo-cat duo-fused zigzag"
missing_graph = ""
layouts_eager = "full duo-cat duo-fused zigzag"
missing_eager = ""
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
