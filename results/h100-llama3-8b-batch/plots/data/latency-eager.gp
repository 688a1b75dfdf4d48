mode = 'eager'; fixed = 'B=1, sparsity 0.5'
panels = "decode"
xmin = 32768
xmax = 32768
host_paced_rows = 1
paced_layouts = ""
xmin_decode = 32768
xmax_decode = 32768
paced_layouts_decode = "streaming"
