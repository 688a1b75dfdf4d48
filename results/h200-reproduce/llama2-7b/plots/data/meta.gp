gpu = "NVIDIA H200"
model = "llama2-7b"
layouts = "full duo-cat duo-fused zigzag"
duo_layouts = "duo-cat duo-fused"
ctx_tics = '("20K" 20480, "120K" 122880, "200K" 204800)'
copy_gbps = 4190.898852653867
gemm_tflops = 788.5195261939224
host_rule = "host-paced"
