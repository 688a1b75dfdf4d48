mode = 'eager'; fixed = 'B=1, sparsity 0.5'
panels = "decode prefill"
xmin = 8192
xmax = 131072
host_paced_rows = 0
paced_layouts = ""
xmin_decode = 8192
xmax_decode = 131072
paced_layouts_decode = ""
xmin_prefill = 8192
xmax_prefill = 32768
paced_layouts_prefill = ""
