config = 'decode S=32K B=1 sparsity 0.5, graph mode'; phase = 'decode'
panels = ""
xmin = 265.7600045
xmax = 1753.615975
