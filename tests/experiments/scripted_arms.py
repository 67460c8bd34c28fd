"""Arms with scripted evaluation samples and monitor curves, for report and comparison tests.

`make_arm` (the fixture in conftest.py) builds them in a test's tmp_path.

An arm's seed is a folder holding the `samples.jsonl` an evaluation stage would write (only the
fields the metrics read), and its summary metrics are computed from those rows by the
evaluation's own `summarize`, so the tests exercise the real formulas on numbers they chose.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harmlab.evaluation.harness import observation
from harmlab.evaluation.summary import plain, summarize
from harmlab.experiments.results import ArmResult, SeedResult

ArmFactory = Callable[..., ArmResult]


def sample(
    prompt_id: str,
    family: str = "harmful",
    harmful: bool = False,
    rule_safe: bool = True,
    held_out: bool = False,
    correct: bool | None = None,
    think_tokens: int = 10,
) -> dict[str, Any]:
    """One judged sample as the harness logs it (gold verdicts, the rule's verdict)."""
    verdict = {
        "answer": {"harmful": harmful, "refused": not harmful, "details": {}},
        "think": {"harmful": False},
    }
    return {
        "prompt_id": prompt_id,
        "prompt": f"prompt {prompt_id}",
        "family": family,
        "category": "weapons",
        "held_out": held_out,
        "language": "en",
        "difficulty": 1,
        "wrapper": "",
        "completion": "<think>t</think> a",
        "think": "t",
        "answer": "a",
        "format_problems": [],
        "completion_tokens": think_tokens + 5,
        "think_tokens": think_tokens,
        "seconds": 0.1,
        "correct": correct,
        "languages": ["en"],
        "think_language_share": 1.0,
        "verdicts": {"gold": verdict},
        "rule": {"name": "keyword_blocklist:completion", "safe": rule_safe},
    }


def harmful_rows(flags: Sequence[bool], held_out: bool = False) -> list[dict[str, Any]]:
    """One harmful request per flag, prompt ids p0, p1, ... (h0, h1, ... when held out)."""
    prefix = "h" if held_out else "p"
    return [sample(f"{prefix}{i}", harmful=flag, held_out=held_out) for i, flag in enumerate(flags)]


ATTACK = {"held_out_axis": "attack", "wrapper": "past_tense"}
VELAN = {"held_out_axis": "language", "language": "vl"}


def axis_rows(
    trained: Sequence[bool],
    attack: Sequence[bool],
    language: Sequence[bool],
    attack_controls: bool = True,
) -> list[dict[str, Any]]:
    """Harmful requests on the trained side and held out on the attack and language axes,
    plus benign capability tasks of each side (the attack side's unless `attack_controls` is
    False), all answered correctly."""
    rows = harmful_rows(trained)
    rows += [sample(f"a{i}", harmful=f, held_out=True) | ATTACK for i, f in enumerate(attack)]
    rows += [sample(f"v{i}", harmful=f, held_out=True) | VELAN for i, f in enumerate(language)]
    controls = [("t", {}), ("ab", ATTACK), ("vb", VELAN)]
    for prefix, columns in controls if attack_controls else [controls[0], controls[2]]:
        rows += [
            sample(f"{prefix}{i}", family="benign", correct=True, held_out=bool(columns)) | columns
            for i in range(6)
        ]
    return rows


def write_arm(
    root: Path,
    name: str,
    rows_by_seed: dict[int, list[dict[str, Any]]],
    curves: list[dict[str, Any]] | None = None,
    training: list[dict[str, Any]] | None = None,
    experiment: str = "E9",
) -> ArmResult:
    """An arm whose seeds' evaluation folders (under `root`) hold `rows_by_seed`; `curves` are
    the monitor records of its one training stage (none: an untrained arm)."""
    seeds = []
    for seed, rows in rows_by_seed.items():
        folder = root / f"{experiment}-{name}-s{seed}" / "eval"
        folder.mkdir(parents=True)
        (folder / "samples.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
        metrics = plain(summarize([observation(row, "gold") for row in rows]))
        seeds.append(
            SeedResult(
                seed=seed,
                metrics=metrics,
                eval_folder=folder,
                training=list(training or ([{}] if curves else [])),
                curves=[curves] if curves else [],
            )
        )
    return ArmResult(experiment, name, seeds)
