gpu = "NVIDIA H100 80GB HBM3"
model = "llama3-8b"
layouts = "duo-cat duo-slices zigzag"
duo_layouts = "duo-cat duo-slices"
ctx_tics = '("8K" 8192, "32K" 32768)'
copy_gbps = 2986.066713175937
gemm_tflops = 786.4440050541485
host_rule = "host-paced (enqueue ≥ 90 % of step)"
