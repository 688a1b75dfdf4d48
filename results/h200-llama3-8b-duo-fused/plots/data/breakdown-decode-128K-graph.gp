config = 'decode S=128K B=1 sparsity 0.5, graph mode'; phase = 'decode'; has_outside = 1; has_fused = 0
panels = ""
xmin = 230.2400023
xmax = 3994.383931
host_paced_rows = 0
paced_layouts = ""
