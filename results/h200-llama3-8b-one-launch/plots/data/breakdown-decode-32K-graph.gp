config = 'decode S=32K B=1 sparsity 0.5, graph mode'; phase = 'decode'; has_outside = 1; has_fused = 0
panels = ""
xmin = 230.0480008
xmax = 1219.760001
host_paced_rows = 0
paced_layouts = ""
