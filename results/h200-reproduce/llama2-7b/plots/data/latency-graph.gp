mode = 'graph'; fixed = 'B=1, sparsity 0.75'
panels = "decode"
xmin = 20480
xmax = 204800
host_paced_rows = 0
paced_layouts = ""
xmin_decode = 20480
xmax_decode = 204800
paced_layouts_decode = ""
