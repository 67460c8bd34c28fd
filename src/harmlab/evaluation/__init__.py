"""Evaluation: sampling, judges, metrics, the EvalLog and the harness that ties them together.

    harmlab eval --model tiny --suite world --judges gold,refusal-string
    harmlab judge validate --judge refusal-string,embedding --data xstest

Submodules are imported where they are used (this package imports nothing heavy):
`generation` (batched sampling), `judges` (verdicts by name), `validation` (agreement with
human labels), `metrics` (pure formulas with bootstrap intervals), `generalization` (each
axis's trained and held-out sides, capability controls), `summary` (summary.json: every metric
gathered), `evallog` (one JSON line per sample, resumable), `harness` (`run_eval`), `card` (the
behaviour card), `intervals`.
"""
