"""harmlab: train and test harmlessness in reasoning language models (the DeepSeek-R1 setting).

Importing harmlab makes the Hugging Face stack offline unless the user has allowed network
(`harmlab --allow-network ...` or `HARMLAB_ALLOW_NETWORK=1`): code must never fetch weights or
data from a hub by default. The variables are set before transformers is first imported, since
huggingface_hub reads them once at import time. They are overwritten, not defaulted: an
exported `HF_HUB_OFFLINE=0` left over from other work must not switch the hub on behind the
user's back; only harmlab's own switch does.
"""

from __future__ import annotations

import os

__version__ = "0.1.0"

_OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")


def network_allowed() -> bool:
    """True when the user explicitly allowed hub downloads."""
    return os.environ.get("HARMLAB_ALLOW_NETWORK", "") == "1"


def allow_network() -> None:
    """Let later imports of the HF stack reach the hub (call before importing transformers)."""
    os.environ["HARMLAB_ALLOW_NETWORK"] = "1"
    for name in _OFFLINE_VARIABLES:
        os.environ[name] = "0"


os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# OpenMP threads that spin while waiting for each other stall whenever the CPU is shared (two
# `--jobs`, other users): on the 2-core machine under load a pretraining step took 2.4-5.3x
# longer and a batch of tiny-model generation 10x longer (and burned 12x the CPU) than with
# passive waiting (benchmarks/pretrain_step.py --compare-wait-policy). OpenMP reads it when
# torch loads it, so it only applies if harmlab is imported first; an exported value wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
if not network_allowed():
    for _name in _OFFLINE_VARIABLES:
        os.environ[_name] = "1"


class HarmlabError(Exception):
    """An error the user can fix; the CLI prints its message as one line and exits non-zero."""
