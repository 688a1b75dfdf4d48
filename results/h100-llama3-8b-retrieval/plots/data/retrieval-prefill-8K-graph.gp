config = 'prefill S=8K B=1, graph mode'; phase = 'prefill'
panels = ""
xmin = 0
xmax = 1
host_paced_rows = 0
paced_layouts = ""
