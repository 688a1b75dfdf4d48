config = 'decode S=32K B=1 sparsity 0.5, graph mode'; phase = 'decode'; has_outside = 0; has_fused = 0
panels = ""
xmin = 265.8559978
xmax = 1750.400007
host_paced_rows = 0
paced_layouts = ""
