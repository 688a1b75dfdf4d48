gpu = "NVIDIA H200"
model = "llama3-8b"
layouts = "full streaming duo-cat duo-slices duo-fused zigzag"
duo_layouts = "duo-cat duo-slices duo-fused"
ctx_tics = '("8K" 8192, "32K" 32768, "128K" 131072)'
copy_gbps = 4217.2351289464705
gemm_tflops = 807.5523576158471
host_rule = "host-paced"
