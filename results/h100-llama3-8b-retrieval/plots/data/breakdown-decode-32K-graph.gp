config = 'decode S=32K B=1 sparsity 0.5, graph mode'; phase = 'decode'
panels = ""
xmin = 1030.591965
xmax = 1407.791972
