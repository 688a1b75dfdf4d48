gpu = "NVIDIA H200"
model = "llama3-8b"
layouts = "full streaming duo-cat duo-slices zigzag"
duo_layouts = "duo-cat duo-slices"
ctx_tics = '("32K" 32768)'
copy_gbps = 4215.116032338257
gemm_tflops = 798.3025427160559
host_rule = "host-paced"
