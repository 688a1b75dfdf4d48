config = 'decode S=128K B=1 sparsity 0.5, graph mode'; phase = 'decode'; has_outside = 0; has_fused = 0
panels = ""
xmin = 267.1360075
xmax = 6087.232113
host_paced_rows = 0
paced_layouts = ""
