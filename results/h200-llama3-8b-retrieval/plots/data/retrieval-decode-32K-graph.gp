config = 'decode S=32K B=1, graph mode'; phase = 'decode'
panels = ""
xmin = 0
xmax = 1
host_paced_rows = 0
paced_layouts = ""
