fixed = 'B=1, sparsity 0.75'
panels = ""
xmin = 20480
xmax = 204800
host_paced_rows = 0
paced_layouts = ""
