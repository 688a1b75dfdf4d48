mode = 'eager'; fixed = 'B=1, sparsity 0.5'
panels = "decode"
xmin = 102400
xmax = 1048576
host_paced_rows = 0
paced_layouts = ""
xmin_decode = 102400
xmax_decode = 1048576
paced_layouts_decode = ""
