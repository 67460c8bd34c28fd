#!/usr/bin/env bash
# GPU smoke test of the scale-out path: bf16 GRPO on SmolLM2-135M (model ref `smollm2`), with
# vLLM generation (colocate mode) and with Hugging Face generation, same config otherwise.
#
#     bash benchmarks/gpu_smoke.sh            # needs a CUDA GPU and `pip install vllm`
#     STEPS=5 bash benchmarks/gpu_smoke.sh    # more steps (the first includes vLLM's start-up)
#
# Each side runs `harmlab train grpo` with command-line overrides (nothing else is needed) into
# a temporary folder and reports the median metered seconds of its steps after the first (the
# compute meter's cumulative `compute/*_s` fields in metrics.jsonl); then the ratio HF / vLLM.
# Without a GPU it exits 1 with one line saying so. Not a test: it prints figures.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
STEPS="${STEPS:-3}"

if ! command -v nvidia-smi >/dev/null 2>&1 ||
  ! "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "gpu_smoke: no CUDA GPU here (nvidia-smi missing or torch.cuda unavailable); run it on a GPU machine" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import vllm' 2>/dev/null; then
  echo "gpu_smoke: vLLM is not installed (pip install vllm); it is the generation backend compared" >&2
  exit 1
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# One GRPO run: $1 names it, the rest are extra overrides.
run_grpo() {
  local name="$1"
  shift
  "$PYTHON" -m harmlab train grpo --config configs/grpo-from-base.yaml \
    model=smollm2 output_dir="$WORK/$name" \
    train.steps="$STEPS" train.save_every=1000 monitor.every=0 \
    trl.bf16=true "$@" >"$WORK/$name.log" 2>&1 || {
    echo "gpu_smoke: the $name run failed; last lines of its log:" >&2
    tail -n 20 "$WORK/$name.log" >&2
    exit 1
  }
}

# Median seconds per step after the first, from the cumulative compute meter.
seconds_per_step() {
  "$PYTHON" - "$WORK/$1/metrics.jsonl" <<'PY'
import json, statistics, sys

records = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
totals = [sum(v for k, v in r.items() if k.startswith("compute/") and k.endswith("_s")) for r in records]
steps = [b - a for a, b in zip(totals, totals[1:])] or totals
print(f"{statistics.median(steps):.3f}")
PY
}

run_grpo vllm trl.use_vllm=true trl.vllm_mode=colocate
run_grpo hf
vllm_s="$(seconds_per_step vllm)"
hf_s="$(seconds_per_step hf)"
echo "smollm2 bf16 GRPO, median s/step after the first of $STEPS: vLLM $vllm_s  HF $hf_s"
"$PYTHON" -c "print(f'ratio HF / vLLM: {float(\"$hf_s\") / float(\"$vllm_s\"):.2f}')"
