config = 'decode S=32K B=1 sparsity 0.5, graph mode'; phase = 'decode'
panels = ""
xmin = 265.8559978
xmax = 1750.400007
