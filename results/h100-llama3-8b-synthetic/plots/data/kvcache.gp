fixed = 'B=1, sparsity 0.5'
panels = ""
xmin = 8192
xmax = 32768
