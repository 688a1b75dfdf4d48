gpu = "NVIDIA H100 80GB HBM3"
model = "llama3-8b"
layouts = "full streaming duo-cat duo-slices zigzag"
duo_layouts = "duo-cat duo-slices"
ctx_tics = '("8K" 8192, "32K" 32768)'
copy_gbps = 2980.364427187917
gemm_tflops = 780.9741636813461
host_rule = "host-paced (enqueue ≥ 90 % of step)"
