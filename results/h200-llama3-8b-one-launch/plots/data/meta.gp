gpu = "NVIDIA H200"
model = "llama3-8b"
layouts = "full streaming duo-cat duo-slices zigzag"
duo_layouts = "duo-cat duo-slices"
ctx_tics = '("8K" 8192, "32K" 32768, "128K" 131072)'
copy_gbps = 4233.730778606968
gemm_tflops = 782.1652847829895
host_rule = "host-paced"
