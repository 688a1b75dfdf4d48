config = 'decode S=128K B=1 sparsity 0.5, graph mode'; phase = 'decode'
panels = ""
xmin = 267.1360075
xmax = 6087.232113
