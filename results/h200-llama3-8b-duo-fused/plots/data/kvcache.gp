fixed = 'B=1, sparsity 0.5'
panels = ""
xmin = 8192
xmax = 131072
host_paced_rows = 0
paced_layouts = ""
