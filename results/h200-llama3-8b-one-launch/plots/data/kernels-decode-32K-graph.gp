config = 'decode S=32K B=1 sparsity 0.5, graph mode'; phase = 'decode'
