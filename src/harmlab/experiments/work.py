"""What each kind of stage does inside its folder, and where its model is.

    harmlab reproduce --quick       # every stage of the plan runs (or is reused) through here

A stage of the plan (`plan.py`) is curate, sft, grpo, distill or eval. Each kind calls the same
function as its command (`harmlab data curate`, `harmlab train sft|grpo|distill`, `harmlab
eval`), with what the plan places on it: the model it starts from, its folder, its seed (and
threads, speed only), and for an SFT stage after a curation stage that stage's data. Every
config is loaded through the same validated loader as on the command line, so a stage cannot
run a config the CLI would refuse.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harmlab.experiments.plan import PlannedStage
from harmlab.models.embedded import world_model

if TYPE_CHECKING:
    from harmlab.data.curate import CurateConfig
    from harmlab.training.config import DistillRunConfig, GRPORunConfig, SFTRunConfig

STAGE_FOLDERS = {"curate": "data", "sft": "run", "grpo": "run", "distill": "run", "eval": "eval"}
"""Each stage kind's work folder inside its stage folder."""
MODEL_PATHS = {"sft": "run/final", "grpo": "run/final", "distill": "run/student/final"}
"""Where a model-making stage's model is, inside its stage folder."""


def run_stage(item: PlannedStage, folder: Path, start: str, threads: int | None) -> None:
    """Do one stage's work inside its folder (resuming what an interrupted attempt left)."""
    from harmlab.models.folders import quiet_hf_progress

    with quiet_hf_progress():
        if item.kind == "eval":
            _evaluate(item, folder, start, threads)
        elif item.kind == "curate":
            _curate(item, folder, start, threads)
        elif item.kind == "distill":
            _distill(item, folder, start, threads)
        else:
            _train(item, folder, start, threads)


def training_config(
    item: PlannedStage, folder: Path, start: str, threads: int | None
) -> SFTRunConfig | GRPORunConfig:
    """The run config a training stage trains with: its file, its planned overrides, then the
    start model, output folder and seed (and threads, speed only) this call places it at."""
    from harmlab.config import load_config
    from harmlab.training.config import GRPORunConfig, SFTRunConfig

    placed = [f"model={start}", f"output_dir={folder / STAGE_FOLDERS[item.kind]}"]
    placed.append(f"seed={item.stage.seed}")
    if threads is not None:
        placed.append(f"threads={threads}")
    if item.data_from is not None:  # train on the curation stage's data, and on nothing else
        data = folder.parent / item.data_from.folder_name / STAGE_FOLDERS["curate"] / "sft.jsonl"
        placed += ["data.size=0", f"data.files=[{json.dumps(str(data))}]"]
    overrides = [*item.overrides, *placed]
    if item.kind == "sft":
        return load_config(SFTRunConfig, item.config_file, overrides)
    return load_config(GRPORunConfig, item.config_file, overrides)


def _train(item: PlannedStage, folder: Path, start: str, threads: int | None) -> None:
    from harmlab.training.config import SFTRunConfig
    from harmlab.training.grpo import train_grpo
    from harmlab.training.sft import train_sft

    config = training_config(item, folder, start, threads)
    resume = (folder / STAGE_FOLDERS[item.kind] / "config.yaml").is_file()
    if isinstance(config, SFTRunConfig):
        train_sft(config, resume=resume)
    else:
        train_grpo(config, resume=resume)


def curate_config(item: PlannedStage) -> CurateConfig:
    """A curation stage's config: its file, its planned overrides, then its seed."""
    from harmlab.config import load_config
    from harmlab.data.curate import CurateConfig

    overrides = [*item.overrides, f"seed={item.stage.seed}"]
    return load_config(CurateConfig, item.config_file, overrides)


def _curate(item: PlannedStage, folder: Path, start: str, threads: int | None) -> None:
    """Rejection-sample the chain's start model into `<folder>/data` (rerun whole if killed)."""
    from harmlab.data.curate import curate

    with torch_threads(threads):
        curate(curate_config(item), folder / STAGE_FOLDERS["curate"], model=start)


def distill_config(
    item: PlannedStage, folder: Path, teacher: str, threads: int | None
) -> DistillRunConfig:
    """A distillation stage's config: its file and planned overrides, then the teacher (the
    chain's model), the folder, the seed, and the world's own student when it names one."""
    from harmlab.config import load_config
    from harmlab.training.config import DistillRunConfig

    placed = [f"teacher={teacher}", f"output_dir={folder / STAGE_FOLDERS['distill']}"]
    placed.append(f"seed={item.stage.seed}")
    if threads is not None:
        placed.append(f"threads={threads}")
    config = load_config(DistillRunConfig, item.config_file, [*item.overrides, *placed])
    student = world_model(config.student, item.world.world_seed)
    return config if student is None else dataclasses.replace(config, student=str(student))


def _distill(item: PlannedStage, folder: Path, teacher: str, threads: int | None) -> None:
    from harmlab.training.distill import train_distill

    config = distill_config(item, folder, teacher, threads)
    train_distill(config, resume=(folder / STAGE_FOLDERS["distill"]).is_dir())


def _evaluate(item: PlannedStage, folder: Path, start: str, threads: int | None) -> None:
    from harmlab.evaluation.generation import SamplingConfig
    from harmlab.evaluation.harness import EvalConfig, run_eval

    settings: dict[str, Any] = dict(item.stage.config["settings"])
    sampling = SamplingConfig(
        n=settings["samples_per_prompt"],
        temperature=settings["temperature"],
        max_new_tokens=settings["max_new_tokens"],
        seed=item.stage.seed,
    )
    config = EvalConfig(
        model=start,
        suite="world",
        judges=("gold",),
        sampling=sampling,
        world_seed=item.world.world_seed,
        held_out_category=item.world.rotated_category,
        rule=item.stage.config["rule"],
        benign_per_difficulty=settings.get("benign_per_difficulty"),
    )
    out = folder / STAGE_FOLDERS["eval"]
    with torch_threads(threads):
        run_eval(config, out, resume=(out / "samples.jsonl").is_file())


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run a block with `threads` torch CPU threads (unchanged when None)."""
    import torch

    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
