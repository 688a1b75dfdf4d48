config = 'decode S=32K B=1 sparsity 0.5, graph mode'; phase = 'decode'; has_outside = 0; has_fused = 0
panels = ""
xmin = 295.5519855
xmax = 5991.424084
host_paced_rows = 0
paced_layouts = ""
