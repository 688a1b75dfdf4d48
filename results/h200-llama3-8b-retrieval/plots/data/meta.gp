gpu = "NVIDIA H200"
model = "llama3-8b"
layouts = "duo-cat duo-slices zigzag"
duo_layouts = "duo-cat duo-slices"
ctx_tics = '("8K" 8192, "32K" 32768)'
copy_gbps = 4217.500227558763
gemm_tflops = 804.1127655624832
host_rule = "host-paced"
