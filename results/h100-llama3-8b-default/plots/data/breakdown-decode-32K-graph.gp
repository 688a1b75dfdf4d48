config = 'decode S=32K B=1 sparsity 0.5, graph mode'; phase = 'decode'
panels = ""
xmin = 266.6240036
xmax = 1755.103946
