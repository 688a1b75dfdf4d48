mode = 'eager'; fixed = 'B=1, sparsity 0.5'
panels = "decode prefill"
xmin = 8192
xmax = 32768
host_paced_rows = 0
paced_layouts = ""
xmin_decode = 32768
xmax_decode = 32768
paced_layouts_decode = ""
xmin_prefill = 8192
xmax_prefill = 8192
paced_layouts_prefill = ""
