gpu = "NVIDIA H200"
model = "llama3-8b"
layouts = "full duo-cat duo-fused zigzag"
duo_layouts = "duo-cat duo-fused"
ctx_tics = '("64K" 65536, "100K" 102400, "128K" 131072, "320K" 327680, "500K" 512000, "1M" 1048576)'
copy_gbps = 4208.375755554701
gemm_tflops = 795.5945040770546
host_rule = "host-paced"
