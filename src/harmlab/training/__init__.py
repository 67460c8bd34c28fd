"""Training: cold-start SFT and GRPO through TRL, the gold monitor, compute meter, run directories.

harmlab train sft --config configs/sft-cold-start.yaml
harmlab train grpo --config configs/grpo-after-sft.yaml [--resume] [key=value ...]
"""

from harmlab.training.config import (
    GRPORunConfig,
    GRPOTrainConfig,
    MonitorConfig,
    SFTRunConfig,
    SFTTrainConfig,
    WorldData,
)
from harmlab.training.rundir import MetricsLog, RunDir

__all__ = [
    "GRPORunConfig",
    "GRPOTrainConfig",
    "MetricsLog",
    "MonitorConfig",
    "RunDir",
    "SFTRunConfig",
    "SFTTrainConfig",
    "WorldData",
]
