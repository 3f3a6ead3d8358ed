#!/usr/bin/env bash
# benchmarks/gpu_check.sh [--cpu] [--steps 100] [--threads N] [--root DIR] [--out DIR]
#
# The CUDA path in one command (a few minutes on one GPU): census MMoE in fp32, bf16 and 16-mixed,
# MGDA in both gradient modes with bf16, MovieLens-100K with SASRec in bf16, synthetic Ali-CCP on
# data.storage=disk with sparse embeddings in bf16; samples/s and the
# validation metrics of each run next to the same run on the CPU (benchmarks/gpu_check.py).
# Exits 2 at once without CUDA unless --cpu is given (then the CPU column alone); 1 if a run fails.
# PYTHON picks the interpreter (default: the checkout's .venv, else python3).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
python="${PYTHON:-}"
if [[ -z "$python" ]]; then
  if [[ -x "$root/.venv/bin/python" ]]; then python="$root/.venv/bin/python"; else python=python3; fi
fi
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" "$here/gpu_check.py" "$@"
