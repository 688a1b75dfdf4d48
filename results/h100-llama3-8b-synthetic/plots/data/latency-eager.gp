mode = 'eager'; fixed = 'B=1, sparsity 0.5'
panels = "decode prefill"
xmin = 8192
xmax = 32768
xmin_decode = 8192
xmax_decode = 32768
xmin_prefill = 8192
xmax_prefill = 8192
