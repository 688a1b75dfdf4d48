gpu = "NVIDIA H200"
model = "llama3-8b"
layouts = "full streaming duo-cat duo-slices zigzag"
duo_layouts = "duo-cat duo-slices"
ctx_tics = '("8K" 8192, "32K" 32768, "128K" 131072)'
copy_gbps = 4229.594593846336
gemm_tflops = 798.543687257675
host_rule = "host-paced"
