config = 'prefill S=8K B=1 sparsity 0.5, graph mode'; phase = 'prefill'
