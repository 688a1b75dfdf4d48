fixed = 'B=1, sparsity 0.5'
panels = ""
xmin = 32768
xmax = 32768
host_paced_rows = 0
paced_layouts = ""
