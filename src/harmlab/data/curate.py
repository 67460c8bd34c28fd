"""Automated SFT data: rejection sampling from a model, kept by a judge or rule, with provenance.

    harmlab data curate --model tiny --prompts world:sft --judge keyword-blocklist --n 4
    harmlab train sft --config sft-cold-start data.size=0 data.files=[runs/curated/sft.jsonl]

DeepSeek-R1 (arXiv 2501.12948 section 2.3.3) makes its second SFT set by rejection sampling:
n completions per prompt from a checkpoint, kept when a judge accepts them. Here the judge is
any rule spec `harmlab.evaluation.rules` understands (the keyword blocklist, the refusal-phrase
rule, the embedding judge, a guard model, gold), which is the paper's open question 3: what
does the data inherit from an imperfect judge? A sample is accepted when

- harmful request: the judge calls it safe (for a rule that is the hackable verdict);
- benign task: its answer is correct (gold's check), when the task is verifiable; else it is
  not a refusal;
- borderline prompt: it is not a refusal (over-refusal is not helpful);

and, with `require_format`, it is well formed R1 output (R1 also drops unreadable samples).
Accepted samples are deduplicated per prompt and written as `sft.jsonl` (rows `{"messages":
[user, assistant], ...}`, what `data.files` of an SFT config reads) with `provenance.json`
beside it: the judge, acceptance rates per family, the *label noise* (the share of accepted
samples on SafetyWorld harmful requests that gold calls harmful) and the sampling cost
(tokens, FLOPs by `harmlab.training.compute`, seconds), which E5 charges to the method.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harmlab import HarmlabError
from harmlab.config import bounds, check_bounds
from harmlab.data.records import PromptRecord, PromptSet, record_from_world
from harmlab.evaluation.metrics import task_correct
from harmlab.evaluation.rules import Rule, check_rule, make_rule
from harmlab.files import atomic_write_json, atomic_write_text
from harmlab.models.embedded import for_world
from harmlab.refusal_strings import matched_phrase, refusal_list

if TYPE_CHECKING:  # generation imports torch; a config (DistillRunConfig embeds this) must not
    from harmlab.evaluation.generation import Generation
    from harmlab.evaluation.samplers import Sampler
    from harmlab.world import SafetyWorld

DATA_FILE = "sft.jsonl"
"""The curated dataset inside the output folder."""
PROVENANCE_FILE = "provenance.json"
"""How the dataset was made, beside it."""
WORLD_PREFIX = "world:"
"""A prompt set `world:<split>` draws from a SafetyWorld split."""


@dataclass
class CurateConfig:
    """What a rejection-sampling run samples and keeps (the model is given beside it)."""

    prompts: str = "world:sft"
    """`world:<split>` (harmful of training categories + benign + borderline in `mix`), or a
    suite name / prompt file (`harmlab.data.suites.load_suite`)."""
    judge: str = "keyword_blocklist"
    """The rule or judge that accepts harmful-request samples: `NAME[:SPAN]` as in
    `harmlab.evaluation.rules` (keyword_blocklist, refusal_phrase, gold, embedding, ...)."""
    n: int = field(default=4, metadata=bounds(ge=1))
    """Samples per prompt."""
    size: int = field(default=64, metadata=bounds(ge=1))
    """Prompts drawn from a `world:` split (a suite or file is used whole)."""
    mix: dict[str, float] = field(
        default_factory=lambda: {"harmful": 0.4, "benign": 0.4, "borderline": 0.2},
        metadata=bounds(ge=0),
    )
    """Share of each family in a `world:` draw (families the split lacks are dropped)."""
    world_seed: int = field(default=0, metadata=bounds(ge=0))
    """The SafetyWorld that supplies and grades prompts."""
    held_out_category: str | None = None
    """The category that world holds out (None: its default): never sampled, and the rule's
    blocklist is written from the other categories, as in training."""
    seed: int = field(default=0, metadata=bounds(ge=0))
    """Seed of the prompt draw and of sampling."""
    temperature: float = field(default=1.0, metadata=bounds(ge=0))
    """Sampling temperature (0: greedy, which makes n > 1 pointless)."""
    max_new_tokens: int = field(default=160, metadata=bounds(ge=1))
    """Longest sample, in tokens."""
    batch_size: int = field(default=32, metadata=bounds(ge=1))
    """Prompts per generation batch (each expanded to n sequences)."""
    require_format: bool = True
    """Keep only well-formed `<think>...</think> answer` samples."""
    refusals: str = "world"
    """Refusal list (`harmlab.refusal_strings`) that decides 'not a refusal' on benign and
    borderline prompts: `world` for SafetyWorld, `xstest` for real models."""
    data_dir: str | None = None
    """Folder of third-party suites (else $HARMLAB_DATA_DIR)."""

    def __post_init__(self) -> None:
        check_bounds(self, "curate config")
        try:  # an unknown judge or list is an error before any model loads
            check_rule(self.judge)
            refusal_list(self.refusals)
        except HarmlabError as error:  # the config loader reports ValueErrors with their key
            raise ValueError(str(error)) from None


@dataclass(frozen=True)
class Decision:
    """Whether one sample is kept, and why."""

    accepted: bool
    reason: str


def decide(
    record: PromptRecord,
    sample: Generation,
    rule_safe: bool | None,
    config: CurateConfig,
) -> Decision:
    """Accept or reject one sample of `record` (see the module docstring for the criteria)."""
    if config.require_format and sample.format_problems:
        return Decision(False, f"malformed: {sample.format_problems[0]}")
    if config.judge.strip() == "none":
        return Decision(True, "no filter")
    if record.family == "harmful":
        if rule_safe is None:
            return Decision(False, "the judge gave no verdict")
        return Decision(rule_safe, "judge: safe" if rule_safe else "judge: harmful")
    correct = task_correct(record.world, sample.answer)
    if correct is not None:
        return Decision(correct, "correct" if correct else "wrong answer")
    refused = matched_phrase(sample.answer, refusal_list(config.refusals)) is not None
    return Decision(not refused, "refused" if refused else "helped")


def curation_prompts(config: CurateConfig) -> PromptSet:
    """The prompt set `config.prompts` names (a world split draw, a suite or a file), without
    held-out categories: their side of a generalization axis stays out of every curated set."""
    if config.prompts.startswith(WORLD_PREFIX):
        return _world_split(config.prompts.removeprefix(WORLD_PREFIX), config)
    from harmlab.data.suites import SuiteOptions, load_suite, resolve_data_dir

    options = SuiteOptions(
        data_dir=resolve_data_dir(config.data_dir),
        world_seed=config.world_seed,
        held_out_category=config.held_out_category,
        prompt_seed=config.seed,
    )
    loaded = load_suite(config.prompts, options)
    return dataclasses.replace(loaded, records=tuple(r for r in loaded.records if not r.held_out))


def curation_world(config: CurateConfig) -> SafetyWorld:
    """The world the curation draws from and gold grades in: its seed and held-out category,
    resolved as training resolves them (`training.data.data_world`)."""
    from harmlab.training.config import WorldData
    from harmlab.training.data import data_world

    return data_world(
        WorldData(world_seed=config.world_seed, held_out_category=config.held_out_category)
    )


def _world_split(split: str, config: CurateConfig) -> PromptSet:
    from harmlab.training.config import WorldData
    from harmlab.training.data import world_prompts
    from harmlab.world.world import SPLIT_FAMILIES

    if split not in SPLIT_FAMILIES:
        raise HarmlabError(
            f"prompts 'world:{split}': unknown split; valid: {', '.join(SPLIT_FAMILIES)}"
        )
    families: tuple[str, ...] = SPLIT_FAMILIES[split]
    mix = {f: w for f, w in config.mix.items() if f in families}
    data = WorldData(
        world_seed=config.world_seed,
        held_out_category=config.held_out_category,
        size=config.size,
        mix=mix,
        seed=config.seed,
    )
    drawn = world_prompts(curation_world(config), split, data)  # no held-out category
    name = f"world:{split}"
    return PromptSet(name, tuple(record_from_world(p, name) for p in dict.fromkeys(drawn)))


@dataclass
class Tally:
    """Counts of one family: samples drawn, accepted, and gold's view of the accepted ones."""

    samples: int = 0
    """Samples drawn."""
    accepted: int = 0
    """Samples kept (accepted and not a duplicate)."""
    duplicates: int = 0
    """Accepted samples dropped as the same text as a kept sample of the same prompt."""
    gold_judged: int = 0
    """Accepted samples of SafetyWorld harmful requests (gold can judge them)."""
    gold_harmful: int = 0
    """Of those, the ones gold calls harmful: label noise the judge let through."""


def sample_all(
    sampler: Sampler, prompts: PromptSet, config: CurateConfig
) -> list[tuple[PromptRecord, Generation]]:
    """`config.n` samples of every prompt, batch by batch (batch `i` seeded `seed + i`)."""
    from harmlab.evaluation.generation import SamplingConfig

    sampling = SamplingConfig(
        n=config.n,
        temperature=config.temperature,
        max_new_tokens=config.max_new_tokens,
        batch_size=config.batch_size,
        seed=config.seed,
    )
    out: list[tuple[PromptRecord, Generation]] = []
    records = prompts.records
    for index, start in enumerate(range(0, len(records), config.batch_size)):
        batch = [r for r in records[start : start + config.batch_size] for _ in range(config.n)]
        generations = sampler([r.text for r in batch], sampling, config.seed + index)
        out.extend(zip(batch, generations, strict=True))
    return out


def select(
    samples: Sequence[tuple[PromptRecord, Generation]], rule: Rule | None, config: CurateConfig
) -> tuple[list[tuple[PromptRecord, Generation]], dict[str, Tally]]:
    """The accepted samples (deduplicated per prompt, in order) and per-family tallies.

    `rule` None (judge `none`) filters nothing but the format: every sample is kept.
    """
    gold = curation_world(config).judge
    harmful = [(r, g) for r, g in samples if r.family == "harmful"]
    texts = [g.text for _, g in harmful]
    verdicts = iter(rule.verdicts([r for r, _ in harmful], texts) if rule else [])
    tallies: dict[str, Tally] = {}
    kept: list[tuple[PromptRecord, Generation]] = []
    seen: set[tuple[str, str]] = set()
    for record, sample in samples:
        tally = tallies.setdefault(record.family, Tally())
        tally.samples += 1
        safe = next(verdicts).safe if rule and record.family == "harmful" else None
        if not decide(record, sample, safe, config).accepted:
            continue
        key = (record.text, " ".join(sample.text.split()))
        if key in seen:
            tally.duplicates += 1
            continue
        seen.add(key)
        tally.accepted += 1
        kept.append((record, sample))
        if record.world is not None and record.family == "harmful":
            tally.gold_judged += 1
            tally.gold_harmful += gold.judge(record.world, sample.text).harmful
    return kept, tallies


def provenance(
    config: CurateConfig,
    model: str,
    rule: Rule | None,
    samples: Sequence[tuple[PromptRecord, Generation]],
    tallies: dict[str, Tally],
    n_params: int | None,
) -> dict[str, Any]:
    """What `provenance.json` records: judge, acceptance, label noise against gold, cost."""
    from harmlab.training.compute import generation_flops

    total = sum(t.samples for t in tallies.values())
    accepted = sum(t.accepted for t in tallies.values())
    judged = sum(t.gold_judged for t in tallies.values())
    harmful = sum(t.gold_harmful for t in tallies.values())
    tokens = sum(g.completion_tokens for _, g in samples)
    return {
        "data_file": DATA_FILE,
        "model": model,
        "prompts": config.prompts,
        "judge": rule.spec if rule else "none",
        "prompt_count": len({r.id for r, _ in samples}),
        "samples": total,
        "accepted": accepted,
        "acceptance_rate": accepted / total if total else None,
        "duplicates": sum(t.duplicates for t in tallies.values()),
        "families": {f: _family_summary(t) for f, t in sorted(tallies.items())},
        "gold_judged": judged,
        "gold_harmful": harmful,
        "gold_harmful_share": harmful / judged if judged else None,
        "cost": {
            "tokens_generated": tokens,
            "n_params": n_params,
            "flops_generation": generation_flops(n_params, tokens) if n_params else None,
            "seconds": round(sum(g.seconds for _, g in samples), 3),
        },
        "config": asdict(config),
    }


def _family_summary(tally: Tally) -> dict[str, Any]:
    rate = tally.accepted / tally.samples if tally.samples else None
    return {**asdict(tally), "acceptance_rate": rate}


def dataset_rows(kept: Sequence[tuple[PromptRecord, Generation]]) -> list[dict[str, Any]]:
    """Accepted samples as SFT rows (`messages`) with the prompt's provenance columns."""
    return [
        {
            "messages": [
                {"role": "user", "content": record.text},
                {"role": "assistant", "content": sample.text},
            ],
            "prompt_id": record.id,
            "family": record.family,
            "category": record.category,
            "language": record.language,
            "source": record.source,
        }
        for record, sample in kept
    ]


def curate(
    config: CurateConfig, out_dir: str | Path, model: str, sampler: Sampler | None = None
) -> dict[str, Any]:
    """Sample `model` (a model reference, a run directory, `scripted:FILE`), judge, dedupe and
    write `<out_dir>/sft.jsonl` and `provenance.json`; returns the provenance. `sampler`, when
    given, is sampled instead (a loaded model or a scripted fake); `model` names it."""
    rule = make_rule(config.judge, config.world_seed, config.held_out_category)  # fails early
    prompts = curation_prompts(config)
    if not prompts.records:
        raise HarmlabError(f"prompt set '{config.prompts}' is empty")
    sampler = sampler or _sampler(for_world(model, config.world_seed))
    samples = sample_all(sampler, prompts, config)
    kept, tallies = select(samples, rule, config)
    record = provenance(config, model, rule, samples, tallies, _parameter_count(sampler))
    folder = Path(out_dir)
    lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in dataset_rows(kept))
    atomic_write_text(folder / DATA_FILE, lines)
    atomic_write_json(folder / PROVENANCE_FILE, record)
    return record


def _sampler(reference: str) -> Sampler:
    from harmlab.evaluation.samplers import sampler_for

    return sampler_for(reference)


def _parameter_count(sampler: Sampler) -> int | None:
    """Parameters of a real model (FLOPs need them); None for a scripted one."""
    model = getattr(sampler, "model", None)
    if model is None or not hasattr(model, "parameters"):
        return None
    return sum(p.numel() for p in model.parameters())
