config = 'decode S=32K B=1, graph mode'; phase = 'decode'
panels = ""
xmin = 0
xmax = 1
