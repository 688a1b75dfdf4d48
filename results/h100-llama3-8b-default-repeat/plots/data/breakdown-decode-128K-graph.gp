config = 'decode S=128K B=1 sparsity 0.5, graph mode'; phase = 'decode'
panels = ""
xmin = 268.3840096
xmax = 6090.911865
