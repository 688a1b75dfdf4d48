config = 'decode S=32K B=1 sparsity 0.5, graph mode'; phase = 'decode'; has_outside = 0; has_fused = 0
panels = ""
xmin = 266.6240036
xmax = 1755.103946
host_paced_rows = 0
paced_layouts = ""
