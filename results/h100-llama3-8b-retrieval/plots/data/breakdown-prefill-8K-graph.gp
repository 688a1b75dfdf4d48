config = 'prefill S=8K B=1 sparsity 0.5, graph mode'; phase = 'prefill'; has_outside = 0; has_fused = 0
panels = ""
xmin = 35642.46368
xmax = 39372.06268
host_paced_rows = 0
paced_layouts = ""
