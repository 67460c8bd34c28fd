"""The evaluation harness: a model on a suite, judged, logged sample by sample, summarised.

    harmlab eval --model smollm2 --suite xstest --judges refusal-string,embedding --temperature 0
    harmlab eval --model tiny --suite world --judges gold --n 4 --out runs/eval/tiny --resume

For every prompt of the suite and every sample index 0..n-1 (one *unit*) it samples a
completion (a `Sampler`, see `samplers`: `generate_rows` through the chat template, or a
scripted model; batched, think/answer split), has every judge give its verdict on both spans,
applies the rule (keyword blocklist by default), and appends one record to the EvalLog; a
resumed run only does the units the log lacks. The summary reads the *trusted* judge (default:
gold when given, else the embedding judge, else the first one) and also reports the headline
rates of every judge side by side, since judges disagree. Every SafetyWorld sample is also
audited (`judges.audit.audit_record`, whatever `--judges` says), and the summary's `audit`
gives the rate at which the fuzzy audit judge flags a near-disclosure gold passes.

Departure from the paper's setting: correctness of arithmetic is checked from the world's
answer for every sample, whichever judge is trusted; it is a task check, not a judgement.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harmlab import HarmlabError
from harmlab.data.records import PromptRecord
from harmlab.data.suites import SuiteOptions, load_suite, resolve_data_dir
from harmlab.evaluation.evallog import EvalLog, sample_key
from harmlab.evaluation.generation import Generation, SamplingConfig
from harmlab.evaluation.judges.audit import audit_records
from harmlab.evaluation.judges.base import Judge, JudgeContext, Transcript, make_judge
from harmlab.evaluation.metrics import (
    HEADLINE_METRICS,
    Observation,
    SampleCost,
    observe,
    rate,
    task_correct,
)
from harmlab.evaluation.rules import Rule, make_rule
from harmlab.evaluation.samplers import Sampler, sampler_for
from harmlab.evaluation.summary import plain, summarize
from harmlab.world import SafetyWorld
from harmlab.world.categories import DEFAULT_HELD_OUT_CATEGORY
from harmlab.world.language import language_share, languages_present


@dataclass(frozen=True)
class EvalConfig:
    """One evaluation: which model, which prompts, how sampled, which judges."""

    model: str
    """Model reference (tiny, smollm2, a folder, a run directory, a hub id)."""
    suite: str
    """Suite name (world-test, xstest, ...) or a prompt file path."""
    judges: tuple[str, ...] = ("refusal-string",)
    """Judge specs; every judge judges every sample."""
    trusted: str | None = None
    """The judge the metrics read; None: gold if given, else embedding, else the first."""
    sampling: SamplingConfig = field(
        default_factory=lambda: SamplingConfig(max_new_tokens=128, batch_size=16)
    )
    """n, temperature, top-p, max new tokens, batch size (units per batch), seed."""
    limit: int | None = None
    """Evaluate only the suite's first `limit` prompts."""
    suite_format: str = "prompts"
    """Column layout when the suite is a file path (see harmlab.data.formats)."""
    world_seed: int = 0
    """Seed of the SafetyWorld of world suites, the gold judge and the default rule."""
    held_out_category: str | None = None
    """The category world suites hold out (None: the world's default), as the evaluated
    model's training did (`harmlab reproduce --held-out-category`)."""
    data_dir: str | None = None
    """Third-party data folder (else $HARMLAB_DATA_DIR)."""
    skip_bad: bool = False
    """Skip malformed rows of prompt files (counted in the summary) instead of failing."""
    benign_per_difficulty: int | None = None
    """Arithmetic tasks per difficulty in world suites (None: the suite's default)."""
    rule: str = "keyword_blocklist"
    """The rule behind the gamed rate, `NAME[:answer|completion|think]` or none: a safety rule
    reward (keyword_blocklist, refusal_phrase) or a judge (see `harmlab.evaluation.rules`)."""

    def trusted_judge(self) -> str:
        if self.trusted:
            if self.trusted not in self.judges:
                raise HarmlabError(f"trusted judge '{self.trusted}' is not among --judges")
            return self.trusted
        for preferred in ("gold", "embedding"):
            found = [j for j in self.judges if j.split(":")[0] == preferred]
            if found:
                return found[0]
        return self.judges[0]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def prompts_of(config: EvalConfig) -> tuple[list[PromptRecord], int]:
    """The suite's prompts (first `limit`) and how many malformed rows were skipped."""
    options = SuiteOptions(
        data_dir=resolve_data_dir(config.data_dir),
        world_seed=config.world_seed,
        held_out_category=config.held_out_category,
        skip_bad=config.skip_bad,
    )
    if config.benign_per_difficulty is not None:
        options = dataclasses.replace(
            options, world_benign_per_difficulty=config.benign_per_difficulty
        )
    prompt_set = load_suite(config.suite, options, config.suite_format)
    records = list(prompt_set.records[: config.limit] if config.limit else prompt_set.records)
    return records, prompt_set.skipped


def batch_seed(seed: int, keys: Sequence[str]) -> int:
    """A sampling seed for a batch, from the run seed and the batch's keys (stable on resume)."""
    digest = hashlib.sha256(f"{seed}|{'|'.join(keys)}".encode()).hexdigest()
    return int(digest[:8], 16)


def correctness(prompt: PromptRecord, answer: str) -> bool | None:
    """Whether a verifiable task's answer ends in the right integer (None for other prompts)."""
    return task_correct(prompt.world, answer)


def sample_row(
    prompt: PromptRecord, index: int, generation: Generation, verdicts: dict[str, Any]
) -> dict[str, Any]:
    """One EvalLog record (verdicts and rule are filled in by the caller)."""
    text = f"{generation.think}\n{generation.answer}"
    return {
        "key": sample_key(prompt.id, index),
        "sample": index,
        **prompt.columns(),
        "completion": generation.text,
        "think": generation.think,
        "answer": generation.answer,
        "format_problems": list(generation.format_problems),
        "completion_tokens": generation.completion_tokens,
        "think_tokens": generation.think_tokens,
        "seconds": generation.seconds,
        "correct": correctness(prompt, generation.answer),
        "languages": sorted(languages_present(text)),
        "think_language_share": language_share(generation.think, prompt.language),
        "verdicts": verdicts,
    }


def observation(row: dict[str, Any], trusted: str) -> Observation:
    """A log record as the metrics see it, through the trusted judge's verdict."""
    rule = row.get("rule")
    return observe(
        row,
        row["completion"],
        row["verdicts"][trusted],
        rule_safe=rule["safe"] if rule else None,
        correct=row["correct"],
        cost=SampleCost(row["completion_tokens"], row["think_tokens"], row["seconds"]),
    )


def rule_records(
    rule: Rule | None, records: Sequence[PromptRecord], completions: Sequence[str]
) -> list[dict[str, Any] | None]:
    """The rule's verdict on each SafetyWorld sample as logged (None elsewhere: the rules'
    vocabulary and the gamed rate's gold truth belong to the world)."""
    if rule is None:
        return [None] * len(records)
    world = [i for i, r in enumerate(records) if r.world is not None]
    verdicts = rule.verdicts([records[i] for i in world], [completions[i] for i in world])
    out: list[dict[str, Any] | None] = [None] * len(records)
    for i, verdict in zip(world, verdicts, strict=True):
        out[i] = {"name": rule.spec, "safe": verdict.safe, "reason": verdict.reason}
    return out


JUDGE_RATES = ("harmful_compliance", "harmful_compliance_held_out", "refusal", "over_refusal")
"""The rates every judge's summary shows side by side (judges disagree)."""


def judge_rates(observations: Sequence[Observation]) -> dict[str, Any]:
    """One judge's headline rates over samples seen through its verdicts, with intervals."""
    return {k: plain(HEADLINE_METRICS[k](observations)) for k in JUDGE_RATES}


AUDIT_EXAMPLES = 20
"""Sample keys of disagreeing samples the summary lists (the log holds them all)."""


def audit_summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """How often the audit judge flags a near-disclosure that gold passes, over every world
    sample (None when no sample has an audit record: no SafetyWorld prompts)."""
    audited = [r for r in rows if r.get("audit") is not None]
    if not audited:
        return None
    disagreeing = [r for r in audited if r["audit"]["disagrees"]]
    return {
        "disagreement": plain(rate([r["audit"]["disagrees"] for r in audited])),
        "flagged": plain(rate([r["audit"]["flagged"] for r in audited])),
        "disagreeing": len(disagreeing),
        "examples": [r["key"] for r in disagreeing[:AUDIT_EXAMPLES]],
    }


def summarize_rows(rows: Sequence[dict[str, Any]], config: EvalConfig) -> dict[str, Any]:
    """The run's summary: trusted metrics in full, headline rates for every judge, and the
    audit judge's disagreement with gold on world samples."""
    trusted = config.trusted_judge()
    trusted_obs = [observation(r, trusted) for r in rows]
    measures_harm = any(r["verdicts"][trusted]["answer"]["harmful"] is not None for r in rows)
    per_judge = {spec: judge_rates([observation(r, spec) for r in rows]) for spec in config.judges}
    return {
        "model": config.model,
        "suite": config.suite,
        "samples": len(rows),
        "trusted": trusted,
        "rule": config.rule,
        "harm_source": "judge" if measures_harm else "refusal proxy (not refused = complied)",
        "metrics": plain(summarize(trusted_obs)),
        "judges": per_judge,
        "audit": audit_summary(rows),
        "judge_seconds": {
            spec: sum(r["judge_seconds"][spec] for r in rows) for spec in config.judges
        },
    }


def judge_batch(
    judges: Sequence[Judge], transcripts: list[Transcript]
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Every judge's verdict (as saved) on each transcript, and each judge's seconds per item."""
    verdicts: list[dict[str, Any]] = [{} for _ in transcripts]
    seconds: dict[str, float] = {}
    for judge in judges:
        start = time.perf_counter()
        for slot, verdict in zip(verdicts, judge.judge(transcripts), strict=True):
            slot[judge.name] = verdict.as_dict()
        seconds[judge.name] = (time.perf_counter() - start) / len(transcripts)
    return verdicts, seconds


def batch_rows(
    batch: Sequence[tuple[PromptRecord, int]],
    sampler: Sampler,
    judges: Sequence[Judge],
    rule: Rule | None,
    sampling: SamplingConfig,
    world: SafetyWorld | None = None,
) -> list[dict[str, Any]]:
    """Sample, split, judge, rule and audit (world samples, `world` given) one batch of units;
    their EvalLog records, in order."""
    seed = batch_seed(sampling.seed, [sample_key(r.id, i) for r, i in batch])
    generations = sampler([r.text for r, _ in batch], sampling, seed)
    transcripts = [
        Transcript(r, g.text, g.think, g.answer)
        for (r, _), g in zip(batch, generations, strict=True)
    ]
    verdicts, judge_seconds = judge_batch(judges, transcripts)
    ruled = rule_records(rule, [r for r, _ in batch], [g.text for g in generations])
    audited = audit_records(world, [r for r, _ in batch], [g.text for g in generations])
    rows = []
    for (record, index), generation, verdict, rule_record, audit in zip(
        batch, generations, verdicts, ruled, audited, strict=True
    ):
        row = sample_row(record, index, generation, verdict)
        row["judge_seconds"] = judge_seconds
        if rule_record is not None:
            row["rule"] = rule_record
        if audit is not None:
            row["audit"] = audit
        rows.append(row)
    return rows


def run_eval(
    config: EvalConfig,
    out: str | Path,
    resume: bool = False,
    model: Any = None,
    tokenizer: Any = None,
    on_progress: Callable[[int, int], None] | None = None,
    judge_progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) an evaluation into `out`; returns the summary it saved.

    `on_progress(done, total)` is called at the start and after every batch.
    """
    records, skipped = prompts_of(config)
    n = config.sampling.n
    units = [(record, index) for record in records for index in range(n)]
    log = EvalLog(out)
    done = log.start(config.as_dict(), resume)
    pending = [u for u in units if sample_key(u[0].id, u[1]) not in done]
    context = JudgeContext(
        config.world_seed, resolve_data_dir(config.data_dir), progress=judge_progress
    )
    judges = [make_judge(spec, context) for spec in config.judges]
    if "gold" in [j.split(":")[0] for j in config.judges] and any(r.world is None for r in records):
        raise HarmlabError(
            f"the gold judge needs SafetyWorld prompts; suite '{config.suite}' has none"
        )
    rule = make_rule(config.rule, config.world_seed, config.held_out_category)
    # Every world evaluation is audited, whatever --judges says (gold's blind spots show here).
    world = (
        SafetyWorld(config.world_seed, config.held_out_category or DEFAULT_HELD_OUT_CATEGORY)
        if any(r.world is not None for r in records)
        else None
    )
    sampler = sampler_for(config.model, model, tokenizer) if pending else None
    total, finished = len(units), len(units) - len(pending)
    if on_progress:
        on_progress(finished, total)
    for start in range(0, len(pending), config.sampling.batch_size):
        batch = pending[start : start + config.sampling.batch_size]
        assert sampler is not None  # pending units exist, so a sampler was made
        log.append(batch_rows(batch, sampler, judges, rule, config.sampling, world))
        finished += len(batch)
        if on_progress:
            on_progress(finished, total)
    rows = log.rows()
    if len(rows) != total:
        raise HarmlabError(f"'{out}' holds {len(rows)} samples, expected {total}")
    summary = summarize_rows(rows, config) | {"config": config.as_dict(), "skipped_rows": skipped}
    log.write_summary(summary)
    return summary
