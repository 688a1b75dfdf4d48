# zigzag-bench: latency suite for split-head attention.
#   make            build host code, kernels and every executable into bin/
#   make test       CPU unit tests (CI runs this; no GPU needed)
#   make test-gpu   kernels against the CPU reference, on a GPU
#   make bench      the default sweep on the GPU (main job)
#   make plots RUN=results/<run>   render a run's plots
#   make profile    Nsight Compute summary of one layer's kernels (PROFILE_ARGS)
#   make clean
# Overridable: CUDA_HOME, GPU_ARCHS (compute capabilities), CC, NVCC,
# KERNEL_DEFS (-D tile-shape overrides for kernel variants), PTXAS_WARN.

CUDA_HOME ?= /usr/local/cuda
NVCC      ?= $(CUDA_HOME)/bin/nvcc
GPU_ARCHS ?= 80 90a
CC        ?= cc

# Packages unpacked from .debs/ (GPU machine) land in build/prefix.
PREFIX    := build/prefix/usr
MULTIARCH := $(PREFIX)/lib/x86_64-linux-gnu

# The harness is grouped by the data flow (docs/DESIGN.md): plan (shapes,
# patterns, plans, work), run (executor, runner, verify), measure (events,
# CUPTI, statistics, ceilings), output (the run's files, written and read).
HARNESS_DIRS := harness harness/plan harness/run harness/measure harness/output
CPPFLAGS  := -Ikernels $(addprefix -I,$(HARNESS_DIRS)) -Ibench -I$(CUDA_HOME)/include -I$(PREFIX)/include
CFLAGS    := -std=c11 -O2 -g -Wall -Wextra -Wshadow -Wno-missing-field-initializers -D_GNU_SOURCE
# The Hopper prefill kernel (kernels/prefill_hopper.cu) runs only from
# sm_90a code; its launcher learns from ZZ_SM90A_BUILD that the build's
# sm_90 code is sm_90a (90a in GPU_ARCHS, plain 90 not: with both, which
# one a 9.0 device loads is not ours to say, and the kernel is refused).
SM90A_BUILD := $(if $(filter 90a,$(GPU_ARCHS)),$(if $(filter 90,$(GPU_ARCHS)),,-DZZ_SM90A_BUILD))
NVCCFLAGS := -O3 -std=c++17 -lineinfo -Ikernels $(KERNEL_DEFS) $(SM90A_BUILD) \
             $(foreach a,$(GPU_ARCHS),-gencode=arch=compute_$(a),code=sm_$(a)) \
             -Xcompiler -Wall,-Wextra $(PTXAS_WARN)
# The sm_80 build of the D=128 prefill spills 64 bytes (sm_90: none); see
# NOTES.md. `make PTXAS_WARN=-Xptxas=-warn-spills,-warn-lmem-usage` shows it.
PTXAS_WARN ?=
LDFLAGS   := -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -L$(MULTIARCH) -Wl,-rpath,$(abspath $(MULTIARCH))
CUDA_LIBS := -lcupti -lcublasLt -lcublas -lcudart -lstdc++ -lm -ldl -lpthread

KERNEL_CU   := $(wildcard kernels/*.cu)
KERNEL_C    := $(wildcard kernels/*.c)
HARNESS_C   := $(foreach d,$(HARNESS_DIRS),$(wildcard $(d)/*.c))
KERNEL_OBJ  := $(KERNEL_CU:%.cu=build/%.o) $(KERNEL_C:%.c=build/%.o)
HARNESS_OBJ := $(HARNESS_C:%.c=build/%.o)
HEADERS     := $(wildcard kernels/*.h bench/*.h) $(foreach d,$(HARNESS_DIRS),$(wildcard $(d)/*.h))

CPU_TESTS := $(patsubst tests/%.c,bin/tests/%,$(wildcard tests/test_*.c))
GPU_TESTS := $(patsubst tests/gpu/%.c,bin/tests/gpu/%,$(wildcard tests/gpu/test_*.c))

.PHONY: all test test-gpu bench reproduce plots profile clean deps need-gpu FORCE
.DELETE_ON_ERROR:

EXECUTABLES := bin/zz-bench bin/zz-kernel-bench bin/zz-host-pacing

# The published DuoAttention patterns (README: "The published patterns"):
# the default sweep's pattern, and the tests about the published data, which
# skip without them (tests/published.h).
export ZZ_DUO_PATTERNS ?= ../shared/duo-patterns

all: $(EXECUTABLES) bin/zz-gbench $(CPU_TESTS) $(GPU_TESTS)

build/libzzkernels.a: $(KERNEL_OBJ)
	rm -f $@ && ar rcs $@ $^
build/libzzharness.a: $(HARNESS_OBJ)
	rm -f $@ && ar rcs $@ $^

# Kernels depend on kernel headers only, and on the -D variant and targets
# they were built for (the stamp changes when KERNEL_DEFS or GPU_ARCHS do).
KERNEL_HEADERS := $(wildcard kernels/*.h kernels/*.cuh)
build/.kernel-defs: FORCE
	@mkdir -p build; echo '$(KERNEL_DEFS) $(GPU_ARCHS)' | cmp -s - $@ || echo '$(KERNEL_DEFS) $(GPU_ARCHS)' > $@
FORCE:
build/%.o: %.cu $(KERNEL_HEADERS) build/.kernel-defs
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -c $< -o $@
build/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

LIBS := build/libzzharness.a build/libzzkernels.a

# zz-bench's commands (bench/cli.h), a library so tests/test_cli_options.c
# can call the flag parsers directly.
CLI_OBJ := $(patsubst %.c,build/%.o,bench/cli_options.c $(wildcard bench/cmd_*.c))
build/libzzcli.a: $(CLI_OBJ)
	rm -f $@ && ar rcs $@ $^
bin/zz-bench: LIBS := build/libzzcli.a $(LIBS)
bin/zz-bench: bench/zz_bench.c build/libzzcli.a $(LIBS) $(HEADERS)
bin/tests/test_cli_options: LIBS := build/libzzcli.a $(LIBS)
bin/tests/test_cli_options: build/libzzcli.a
bin/zz-kernel-bench: bench/kernel_bench.c $(LIBS) $(HEADERS)
bin/zz-host-pacing: bench/host_pacing.c $(LIBS) $(HEADERS)
$(EXECUTABLES):
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LIBS) $(LDFLAGS) $(CUDA_LIBS) -o $@

# Debian packages (FILE=PACKAGE), all installed or unpacked in one step,
# `deps`, which make runs once, before anything that needs a package, so
# parallel jobs never race on the dpkg lock (scripts/need-deb also takes a
# lock). Building needs cmocka and Google Benchmark; running the tests also
# needs gnuplot (the plots test renders a fixture), which the GPU machine (no
# package registry, no plots) lacks: `make all` there never asks for it.
# Order-only: a package installed later rebuilds nothing.
BUILD_DEBS := /usr/include/cmocka.h=libcmocka-dev /usr/include/benchmark/benchmark.h=libbenchmark-dev
PLOT_DEBS  := /usr/bin/gnuplot=gnuplot-nox
deps:
	@scripts/need-deb $(strip $(BUILD_DEBS) $(if $(filter test,$(MAKECMDGOALS)),$(PLOT_DEBS)))

# Tests: cmocka.
bin/tests/%: tests/%.c $(LIBS) $(HEADERS) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $< $(LIBS) $(LDFLAGS) -lcmocka $(CUDA_LIBS) -o $@

# Google Benchmark: the one C++ file (bench/gbench.cc) behind a C API
# (bench/gbench.h); Debian's libbenchmark-dev (1.7.1) or the GPU machine's 1.8.3.
CXX       ?= c++
CXXFLAGS  := -std=c++17 -O2 -g -Wall -Wextra -Wshadow
build/bench/gbench.o: bench/gbench.cc bench/gbench.h | deps
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@
GBENCH_LIBS := build/bench/gbench.o -lbenchmark
bin/zz-gbench: bench/zz_gbench.c build/bench/gbench.o $(LIBS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LIBS) $(LDFLAGS) $(GBENCH_LIBS) $(CUDA_LIBS) -o $@
bin/tests/test_gbench: tests/test_gbench.c build/bench/gbench.o $(LIBS) $(HEADERS) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $< $(LIBS) $(LDFLAGS) $(GBENCH_LIBS) -lcmocka $(CUDA_LIBS) -o $@

test: $(CPU_TESTS) $(GPU_TESTS) $(EXECUTABLES) bin/zz-gbench | deps
	scripts/run-tests $(CPU_TESTS)

need-gpu:
	@nvidia-smi -L >/dev/null 2>&1 || { echo "error: no NVIDIA GPU visible here (nvidia-smi -L failed); run this target on a GPU machine" >&2; exit 2; }

test-gpu: need-gpu $(GPU_TESTS)
	scripts/run-tests $(GPU_TESTS)

# The default sweep (README's main command): Llama-3-8B shapes at sparsity
# 0.5, on the published DuoAttention pattern when ZZ_DUO_PATTERNS holds it,
# else a seeded synthetic one (summary.md names it). On the H100 it takes 170 s:
# decode 32 s (30 measurements of 0.5 s of GPU time each, in steps of
# 0.4-6 ms), prefill 8K 20 s and 32K 117 s (a full-attention 32K step is
# 0.94 s: 3 warm-ups, 10 samples and 10 attribution steps with CUPTI, 22 s
# per mode; duo and zigzag half that). The 10 s timeout (after warm-up)
# still lets a 32K prefill take its 10 samples, and caps a measurement that
# never meets the noise target: some 7 minutes if no decode one did.
# Prefill stops at 32K: at 128K one full-attention step alone takes 15 s.
# BENCH_ARGS adds flags; a later flag wins.
BENCH_PATTERN_DIR := $(ZZ_DUO_PATTERNS)/Llama-3-8B-Instruct-Gradient-1048k
BENCH_PATTERN := $(if $(wildcard $(BENCH_PATTERN_DIR)/full_attention_heads.tsv),--pattern $(BENCH_PATTERN_DIR),--synthetic random:1)
# Contexts are zz-bench run's defaults (decode 8K, 32K, 128K; prefill 8K,
# 32K), so a --ctx in BENCH_ARGS sets both phases.
BENCH_SWEEP := --model llama3-8b --sparsity 0.5 --layouts full,streaming,duo-cat,duo-slices,duo-fused,zigzag \
               --phase decode,prefill --batch 1 --mode eager,graph --timeout 10
BENCH_ARGS ?=

bench: need-gpu bin/zz-bench
	bin/zz-bench run $(BENCH_SWEEP) $(if $(filter --pattern% --synthetic%,$(BENCH_ARGS)),,$(BENCH_PATTERN)) $(BENCH_ARGS)

# DuoAttention's efficiency points as model steps (README, "Reproducing
# DuoAttention's figures"): scripts/reproduce runs them in pieces of at most
# 570 s into RUN/pieces/ (resumable), merges each model's into RUN/llama2-7b
# and RUN/llama3-8b and writes RUN/reproduction.md; then their plots.
# RUN defaults to results/<gpu>-reproduce.
reproduce: need-gpu bin/zz-bench
	@run='$(or $(RUN),results/$(shell nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | tr 'A-Z ' 'a-z-' | sed 's/^nvidia-//')-reproduce)'; \
	scripts/reproduce "$$run"; rc=$$?; \
	for m in llama2-7b llama3-8b; do [ ! -f "$$run/$$m/results.csv" ] || $(MAKE) --no-print-directory plots RUN="$$run/$$m" || rc=1; done; \
	exit $$rc

# Plots of one run folder into RUN/plots (.png and .svg), by plots/render.sh:
# plots/prep.awk joins the CSVs into small tables, plots/*.gp draw them.
# PLOT_PHASE, PLOT_MODE, PLOT_CTX, PLOT_BATCH, PLOT_SPARSITY pick the
# configuration of the bar charts (default: decode, graph, largest context);
# PLOT_DECODE_KERNEL, PLOT_PREFILL_KERNEL the variant of a run that swept several.
PLOT_VARS := PLOT_PHASE PLOT_MODE PLOT_CTX PLOT_BATCH PLOT_SPARSITY PLOT_DECODE_KERNEL PLOT_PREFILL_KERNEL
plots:
	@test -n "$(RUN)" || { echo "error: make plots needs RUN=<run folder>, e.g. make plots RUN=results/h100-llama3-8b-default" >&2; exit 2; }
	@scripts/need-deb $(PLOT_DEBS)
	$(foreach v,$(PLOT_VARS),$(if $($(v)),$(v)='$($(v))')) plots/render.sh '$(RUN)'

# Nsight Compute summary of one layer of one layout (profiles/ncu.sh --help):
# PROFILE_ARGS picks it, e.g. PROFILE_ARGS="--layout zigzag --phase prefill
# --ctx 8k --layer 3"; zz-bench run options go after a --. The pattern is
# the default sweep's unless PROFILE_ARGS names one.
PROFILE_ARGS ?=
profile: need-gpu bin/zz-bench
	profiles/ncu.sh $(PROFILE_ARGS) $(if $(filter --,$(PROFILE_ARGS)),,--) $(if $(filter --pattern% --synthetic%,$(PROFILE_ARGS)),,$(BENCH_PATTERN))

clean:
	rm -rf build bin
