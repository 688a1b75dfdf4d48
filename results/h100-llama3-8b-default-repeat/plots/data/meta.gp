gpu = "NVIDIA H100 80GB HBM3"
model = "llama3-8b"
layouts = "full streaming duo-cat duo-slices zigzag"
duo_layouts = "duo-cat duo-slices"
ctx_tics = '("8K" 8192, "32K" 32768, "128K" 131072)'
copy_gbps = 2993.125303400635
gemm_tflops = 775.4398223407935
host_rule = "host-paced (enqueue ≥ 90 % of step)"
