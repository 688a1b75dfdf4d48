gpu = "NVIDIA H200"
model = "llama2-7b"
layouts = "full duo-cat duo-fused zigzag"
duo_layouts = "duo-cat duo-fused"
ctx_tics = '("20K" 20480, "120K" 122880, "200K" 204800)'
copy_gbps = 4185.410102447108
gemm_tflops = 805.4699918949544
host_rule = "host-paced"
