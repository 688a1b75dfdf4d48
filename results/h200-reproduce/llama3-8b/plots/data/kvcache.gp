fixed = 'B=1, sparsity 0.5'
panels = ""
xmin = 102400
xmax = 1048576
host_paced_rows = 0
paced_layouts = ""
