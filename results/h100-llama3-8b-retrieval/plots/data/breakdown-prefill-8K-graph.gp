config = 'prefill S=8K B=1 sparsity 0.5, graph mode'; phase = 'prefill'
panels = ""
xmin = 35642.46368
xmax = 39372.06268
