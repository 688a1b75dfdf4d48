config = 'decode S=32K B=1 sparsity 0.5, graph mode'; phase = 'decode'; has_outside = 1; has_fused = 0
panels = ""
xmin = 1016.831994
xmax = 1410.143971
host_paced_rows = 0
paced_layouts = ""
