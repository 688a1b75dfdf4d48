config = 'decode S=128K B=1 sparsity 0.5, graph mode'; phase = 'decode'
