config = 'decode S=128K B=1 sparsity 0.5, graph mode'; phase = 'decode'
panels = ""
xmin = 413.3119881
xmax = 6139.51993
