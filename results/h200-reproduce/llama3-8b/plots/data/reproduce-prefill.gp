phase = 'prefill'; fixed = 'B=1, sparsity 0.5, chunk 32K'; rmodel = "llama3-8b"; layers_note = ""; rtics = '("64K" 65536, "128K" 131072, "320K" 327680)'
layouts_eager = "full duo-cat duo-fused zigzag"
missing_eager = ""
layouts_graph = "full duo-cat duo-fused zigzag"
missing_graph = ""
panels = "eager graph"
xmin = 65536
xmax = 327680
host_paced_rows = 0
paced_layouts = ""
xmin_eager = 65536
xmax_eager = 327680
paced_layouts_eager = ""
xmin_graph = 65536
xmax_graph = 327680
paced_layouts_graph = ""
