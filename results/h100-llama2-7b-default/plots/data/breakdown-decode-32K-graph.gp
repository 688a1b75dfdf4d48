config = 'decode S=32K B=1 sparsity 0.5, graph mode'; phase = 'decode'
panels = ""
xmin = 295.5519855
xmax = 5991.424084
