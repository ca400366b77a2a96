#!/usr/bin/env bash
# Instruction-level profile of the emulator's JIT code with Linux perf (software clock: works in a
# VM without a PMU). Host-side only: it measures emulator wall-clock, never modelled cycles.
#
#   bench/perfJit.sh OUTDIR node-args...        e.g.
#   bench/perfJit.sh /tmp/pp/g4k dist/bench/run.js mmu --only gups-xor64-batch:4:4K
#
# Writes OUTDIR/perf.jit.data (V8's code objects injected as symbols) and prints the hottest
# symbols. Then, for one function (copy its symbol from that list):
#   perf annotate -i OUTDIR/perf.jit.data --stdio -s 'JS:*walk file:///…/pageWalker.js:92:9' > a.txt
#   node bench/perfHot.mjs a.txt 1.5      # its hottest instructions, with the source line above
# A sample on the instruction right after a load usually means that load stalled (a host miss).
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: bench/perfJit.sh OUTDIR node-args..." >&2; exit 2; fi
command -v perf >/dev/null || { echo "perfJit: perf is not installed (apt-get install linux-perf)" >&2; exit 2; }
out=$(realpath -m "$1"); shift
script=$(realpath "$1"); shift # the run happens in OUTDIR (perf writes its files there)
mkdir -p "$out"
cd "$out"
rm -f perf.data perf.jit.data jit-*.dump jitted-*.so isolate-*.log
perf record -k 1 -e cpu-clock -F 4999 -o perf.data node --perf-prof --no-write-protect-code-memory "$script" "$@" > run.stdout 2> run.stderr
perf inject --jit -i perf.data -o perf.jit.data > /dev/null 2>&1
perf report -i perf.jit.data --stdio --sort sym 2>/dev/null | grep -v '^#' | grep -v '^$' | head -"${TOP:-25}"
