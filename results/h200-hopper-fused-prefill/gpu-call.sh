#!/bin/bash
# Session 7, call 1: the merged tree (main + wip/hopper-fused-prefill). GPU tests, the owed sanitizers, the
# new mutation, SASS, the plain Hopper kernel's bench (default, ping-pong off, 3 stages), the 32K step,
# then issue 17's 128K full prefill piece while time lasts.
set -u
t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
R=$OUT/r; mkdir -p $R
export ZZ_GIT_COMMIT=$1 ZZ_DUO_PATTERNS=$PWD/.scratch/patterns
make -j16 all > $R/build.log 2>&1 || { tail -30 $R/build.log; exit 1; }
echo "build $(el)"
timeout 240 scripts/run-tests bin/tests/gpu/test_prefill_fused bin/tests/gpu/test_kernels bin/tests/gpu/test_executor > $R/test-gpu.txt 2>&1
echo "test-gpu rc=$? $(el)"; grep -E '^\[  FAILED|^\[  SKIPPED|PASSED' $R/test-gpu.txt | head -12
timeout 90 bin/zz-kernel-bench --kernel wgmma-tma --filter prefill --samples 10 --csv $R/kb-default.csv > $R/kb-default.txt 2>&1; echo "kb default rc=$? $(el)"
timeout 90 bin/zz-bench run --pattern .scratch/patterns/Llama-3-8B-Instruct-Gradient-1048k --model llama3-8b --sparsity 0.5 \
  --layouts duo-slices,duo-fused,zigzag --phase prefill --ctx 32k --mode graph --timeout 8 --out $R/step32k > $R/step32k.log 2>&1; echo "step32k rc=$? $(el)"
for s in "memcheck test_prefill_fused" "racecheck test_prefill_fused test_fused_chunked/*" "memcheck test_kernels test_fused_decode*" "racecheck test_kernels test_fused_decode*"; do
  set -- $s; timeout 90 compute-sanitizer --tool $1 --error-exitcode 9 bin/tests/gpu/$2 ${3:-} > $R/san-$1-$2.txt 2>&1
  echo "$s rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' $R/san-$1-$2.txt | tail -1) $(el)"
done
timeout 150 scripts/mutation-check hopper-fused-streaming-full-mask > $R/mutations.txt 2>&1; echo "mutation rc=$? $(el)"; grep -E "caught|CAUGHT" $R/mutations.txt
cuobjdump -sass build/kernels/prefill_hopper.o > $R/ph.sass; for k in prefill_hopper_kernelILi prefill_hopper_fused_kernelILi; do for d in 64 128; do
  echo "$k$d: $(awk -v k="$k$d" '/Function :/ {on = index($0, k) > 0} on' $R/ph.sass | grep -oE 'HGMMA|UTMALDG|USETMAXREG|LDL|STL' | sort | uniq -c | tr -s ' \n' ' ')"; done; done
gzip $R/ph.sass
for v in "-DHP_PINGPONG=0" "-DHP_STAGES=3"; do n=$(echo "$v" | tr -dc 'A-Za-z0-9_='); 
  make -j16 KERNEL_DEFS="$v" bin/zz-kernel-bench > $R/build-$n.log 2>&1 || { tail -5 $R/build-$n.log; continue; }
  timeout 90 bin/zz-kernel-bench --kernel wgmma-tma --filter prefill --samples 10 --csv $R/kb-$n.csv > $R/kb-$n.txt 2>&1; echo "kb $v rc=$? $(el)"
done
make -j16 all > $R/rebuild.log 2>&1
l=$(( 560 - ($(date +%s) - t0) ))
[ $l -gt 120 ] && { REPRODUCE_LIMIT=$l scripts/reproduce results/h200-reproduce llama3-8b-prefill-128k-full > $R/reproduce-128k-full.log 2>&1; echo "128k-full rc=$? $(el)"; cp -r results/h200-reproduce $R/; }
for n in default DHP_PINGPONG=0 DHP_STAGES=3; do echo "== $n"; grep -E "^prefill" $R/kb-$n.txt | awk '{printf "  %-18s Hkv%-3s D%-4s S%-6s %9s us %7s TF/s %7s tile\n",$1,$5,$6,$7,$9,$11,$12}'; done
grep -E "duo-slices|duo-fused|zigzag" $R/step32k/summary.md | head -8
cd $OUT && tar czf r.tgz r && rm -rf r
