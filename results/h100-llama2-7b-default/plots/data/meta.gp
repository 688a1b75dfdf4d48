gpu = "NVIDIA H100 80GB HBM3"
model = "llama2-7b"
layouts = "full streaming duo-cat duo-slices zigzag"
duo_layouts = "duo-cat duo-slices"
ctx_tics = '("8K" 8192, "32K" 32768)'
copy_gbps = 2996.7341758929574
gemm_tflops = 784.5405754648831
host_rule = "host-paced (enqueue ≥ 90 % of step)"
