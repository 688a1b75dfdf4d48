# zigzag-bench: latency suite for split-head attention.
#   make            build host code, kernels and every executable into bin/
#   make test       CPU unit tests (CI runs this; no GPU needed)
#   make test-gpu   kernels against the CPU reference, on a GPU
#   make bench      the default sweep on the GPU (main job)
#   make plots RUN=results/<run>   render a run's plots
#   make profile    Nsight Compute summary of one layout's kernels
#   make clean
# Overridable: CUDA_HOME, GPU_ARCHS (compute capabilities), CC, NVCC,
# KERNEL_DEFS (-D tile-shape overrides for kernel variants), PTXAS_WARN.

CUDA_HOME ?= /usr/local/cuda
NVCC      ?= $(CUDA_HOME)/bin/nvcc
GPU_ARCHS ?= 80 90
CC        ?= cc

# Packages unpacked from .debs/ (GPU machine) land in build/prefix.
PREFIX    := build/prefix/usr
MULTIARCH := $(PREFIX)/lib/x86_64-linux-gnu

CPPFLAGS  := -Ikernels -Iharness -Ibench -I$(CUDA_HOME)/include -I$(PREFIX)/include
CFLAGS    := -std=c11 -O2 -g -Wall -Wextra -Wshadow -Wno-missing-field-initializers -D_GNU_SOURCE
NVCCFLAGS := -O3 -std=c++17 -lineinfo -Ikernels $(KERNEL_DEFS) \
             $(foreach a,$(GPU_ARCHS),-gencode=arch=compute_$(a),code=sm_$(a)) \
             -Xcompiler -Wall,-Wextra $(PTXAS_WARN)
# The sm_80 build of the D=128 prefill spills 64 bytes (sm_90: none); see
# NOTES.md. `make PTXAS_WARN=-Xptxas=-warn-spills,-warn-lmem-usage` shows it.
PTXAS_WARN ?=
LDFLAGS   := -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -L$(MULTIARCH) -Wl,-rpath,$(abspath $(MULTIARCH))
CUDA_LIBS := -lcublas -lcudart -lstdc++ -lm -ldl -lpthread

KERNEL_CU   := $(wildcard kernels/*.cu)
KERNEL_C    := $(wildcard kernels/*.c)
HARNESS_C   := $(wildcard harness/*.c)
KERNEL_OBJ  := $(KERNEL_CU:%.cu=build/%.o) $(KERNEL_C:%.c=build/%.o)
HARNESS_OBJ := $(HARNESS_C:%.c=build/%.o)
HEADERS     := $(wildcard kernels/*.h harness/*.h bench/*.h)

CPU_TESTS := $(patsubst tests/%.c,bin/tests/%,$(wildcard tests/test_*.c))
GPU_TESTS := $(patsubst tests/gpu/%.c,bin/tests/gpu/%,$(wildcard tests/gpu/test_*.c))

.PHONY: all test test-gpu bench plots profile clean deps-test need-gpu
.DELETE_ON_ERROR:

EXECUTABLES := bin/zz-bench bin/zz-kernel-bench

all: $(EXECUTABLES) $(CPU_TESTS) $(GPU_TESTS)

build/libzzkernels.a: $(KERNEL_OBJ)
	rm -f $@ && ar rcs $@ $^
build/libzzharness.a: $(HARNESS_OBJ)
	rm -f $@ && ar rcs $@ $^

build/%.o: %.cu $(HEADERS)
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -c $< -o $@
build/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

LIBS := build/libzzharness.a build/libzzkernels.a

bin/zz-bench: bench/zz_bench.c $(LIBS) $(HEADERS)
bin/zz-kernel-bench: bench/kernel_bench.c $(LIBS) $(HEADERS)
$(EXECUTABLES):
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LIBS) $(LDFLAGS) $(CUDA_LIBS) -o $@

# Tests: cmocka. Test binaries depend on the deps stamp so a fresh machine
# installs (or unpacks) cmocka first.
build/.deps-test:
	@mkdir -p build
	scripts/need-deb /usr/include/cmocka.h libcmocka-dev
	@touch $@

bin/tests/%: tests/%.c $(LIBS) $(HEADERS) build/.deps-test
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $< $(LIBS) $(LDFLAGS) -lcmocka $(CUDA_LIBS) -o $@

test: $(CPU_TESTS) $(GPU_TESTS) $(EXECUTABLES)
	scripts/run-tests $(CPU_TESTS)

need-gpu:
	@nvidia-smi -L >/dev/null 2>&1 || { echo "error: no NVIDIA GPU visible here (nvidia-smi -L failed); run this target on a GPU machine" >&2; exit 2; }

test-gpu: need-gpu $(GPU_TESTS)
	scripts/run-tests $(GPU_TESTS)

bench: need-gpu bin/zz-bench
	@echo "error: the timed sweep (zz-bench run) is not built yet; see issue 'zz-bench run'" >&2; exit 2

plots:
	@echo "error: plots are not built yet; see issue 'Tables, gnuplot plots'" >&2; exit 2

profile: need-gpu
	@echo "error: profiling scripts are not built yet; see issue 'Profiling with Nsight'" >&2; exit 2

clean:
	rm -rf build bin
