gpu = "NVIDIA H100 80GB HBM3"
model = "llama3-8b"
layouts = "full streaming duo-cat duo-slices zigzag"
duo_layouts = "duo-cat duo-slices"
ctx_tics = '("32K" 32768)'
copy_gbps = 2993.5259428437607
gemm_tflops = 785.150121394548
host_rule = "host-paced (enqueue ≥ 90 % of step)"
