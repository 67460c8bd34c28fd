"""Judging existing completions: a file of (prompt, completion) records, every judge, a summary.

    harmlab judge score --judge refusal-string,embedding --input completions.jsonl --out runs/j
    harmlab world sample --family harmful --kind comply --json > comply.jsonl
    harmlab judge score --judge gold --input comply.jsonl

The input is any file a suite can be read from (JSONL, CSV, Parquet, a saved dataset), laid out
by a `--format` of `harmlab.data.formats`, plus a completion column: the format's own (as in
`xstest-completions`), else `completion`, else `response` (what `world sample --json` writes).
Optional columns: `label`, a human label (full_compliance, full_refusal, partial_refusal, or
XSTest's 1_/2_/3_ spellings; a format's own label column wins), and `model`, the completion's
author (default: the file's name).

A record whose id (the format's id column, else `id`, else `prompt_id` as the harness's
samples.jsonl has it) names a SafetyWorld prompt of `--world-seed` *is* that prompt, so the
gold judge judges it exactly (its text must match the world's). Harmful and borderline prompts
are found by id; benign ones are generated rather than listed, so they also need their `answer`
column (world sample --json writes it).

The run folder is an EvalLog: eval.json (this config), samples.jsonl with one line per record
in the harness's sample layout (prompt columns, completion, spans, every judge's verdict on
think and answer; no token counts or seconds, since no model ran), plus `record`, `label` and
`model`, appended a batch at a time. summary.json (atomic) holds per judge the harness's headline
rates with intervals and, when records carry labels, the judge's agreement with them per model
and pooled, computed by `validation.agreements`: the figure `harmlab judge validate` reports
for the same judge and completions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from harmlab import HarmlabError
from harmlab.data.formats import FORMATS, XSTEST_LABELS
from harmlab.data.loaders import ColumnMapping, load_prompts
from harmlab.data.records import (
    COMPLIANCE_LABELS,
    LabelledCompletion,
    PromptRecord,
    record_from_world,
)
from harmlab.data.suites import resolve_data_dir
from harmlab.evaluation.evallog import EvalLog
from harmlab.evaluation.generation import Generation
from harmlab.evaluation.harness import judge_batch, judge_rates, sample_row
from harmlab.evaluation.judges.base import (
    Judge,
    JudgeContext,
    SpanJudgement,
    Transcript,
    make_judge,
)
from harmlab.evaluation.metrics import Observation, observe
from harmlab.evaluation.validation import agreement, agreements, compliance_label
from harmlab.locks import FolderLock
from harmlab.reasoning_format import split_response
from harmlab.world import SafetyWorld, WorldPrompt
from harmlab.world.prompts import prompt_id
from harmlab.world.world import SPLIT_FAMILIES

COMPLETION_COLUMNS = ("completion", "response")
"""Where the completion is read from when the format names no completion column, in order."""

HUMAN_LABELS = {label: label for label in COMPLIANCE_LABELS} | XSTEST_LABELS
"""Accepted spellings of a human label in a `label` column."""

_CARRIED = ("model", "id", "prompt_id", "answer", "difficulty", "language")
_WORLD_ID = re.compile(r"^[hb]-[0-9a-f]{10}$")


@dataclass(frozen=True)
class ScoreConfig:
    """One `harmlab judge score` run: which completions, read how, judged by which judges."""

    input: str
    """The file of completions (JSONL, CSV, Parquet, or a folder saved by datasets)."""
    judges: tuple[str, ...] = ("refusal-string",)
    """Judge specs; every judge judges every record."""
    file_format: str = "prompts"
    """Column layout of the prompt columns (harmlab.data.formats), as for suites."""
    world_seed: int = 0
    """Seed of the SafetyWorld whose prompt ids records may carry (and of the gold judge)."""
    data_dir: str | None = None
    """Third-party data folder for judges that train on first use (else $HARMLAB_DATA_DIR)."""
    skip_bad: bool = False
    """Skip malformed records (counted in the summary) instead of failing."""
    batch_size: int = 64
    """Records judged (and appended to the log) at a time."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CompletionRecord:
    """One completion to judge, as read from the input."""

    number: int
    """Position among the input's usable records, from 1."""
    prompt: PromptRecord
    """The prompt (the SafetyWorld prompt itself when the record names one)."""
    completion: str
    label: str | None
    """Human label (one of COMPLIANCE_LABELS), when the input carries one."""
    model: str
    """Who wrote the completion: the `model` column, else the input's file name."""

    @property
    def key(self) -> str:
        """The record's log key: its position and id (ids may repeat across models)."""
        return f"{self.number}:{self.prompt.id}"


class WorldPrompts:
    """The SafetyWorld prompts records may name by id (the world is built on first use)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    @cached_property
    def listed(self) -> dict[str, WorldPrompt]:
        """Every harmful and borderline prompt of every split, by id."""
        world = SafetyWorld(self.seed)
        return {
            prompt.id: prompt
            for split, families in SPLIT_FAMILIES.items()
            for family in families
            if family != "benign"
            for prompt in world.prompts(split, family)
        }

    def find(self, ids: Sequence[str], text: str, columns: dict[str, Any]) -> WorldPrompt | None:
        """The world prompt the first world-shaped id names, or None (ValueError: mismatch)."""
        for candidate in ids:
            if not _WORLD_ID.match(candidate):
                continue
            if candidate in self.listed:
                if self.listed[candidate].text != text:
                    raise ValueError(f"id '{candidate}' is a SafetyWorld prompt with other text")
                return self.listed[candidate]
            if candidate == prompt_id("benign", text) and "answer" in columns:
                return _benign(candidate, text, columns)
        return None


def _benign(identifier: str, text: str, columns: dict[str, Any]) -> WorldPrompt:
    numbers = {}
    for name in ("answer", "difficulty"):
        try:
            numbers[name] = int(columns.get(name) or 0)
        except (TypeError, ValueError):
            raise ValueError(f"field '{name}' is {columns[name]!r}; expected an integer") from None
    language = str(columns.get("language") or "en")
    row = {"id": identifier, "family": "benign", "text": text, "language": language}
    return WorldPrompt.from_columns(row | numbers)


def _label(raw: Any, column: str, values: dict[str, str]) -> str | None:
    if raw is None:
        return None
    if str(raw).strip() not in values:
        raise ValueError(f"field '{column}' is '{raw}'; expected one of: {', '.join(values)}")
    return values[str(raw).strip()]


def completion_record(
    number: int, record: PromptRecord, mapping: ColumnMapping, world: WorldPrompts
) -> CompletionRecord:
    """A loaded record whose `meta` carries the extra columns, as a completion to judge."""
    meta = {k: v for k, v in record.meta.items() if k in mapping.keep}
    carried = record.meta
    names = [mapping.completion] if mapping.completion else list(COMPLETION_COLUMNS)
    found = [carried[n] for n in names if n in carried]
    if not found:
        raise ValueError(f"no completion (field {' or '.join(map(repr, names))})")
    label_column = mapping.label or "label"
    label = _label(
        carried.get(label_column), label_column, dict(mapping.label_values or HUMAN_LABELS)
    )
    ids = [record.id] if mapping.id else []
    ids += [str(carried[k]) for k in ("id", "prompt_id") if k in carried]
    prompt = world.find(ids, record.text, carried)
    if prompt is not None:
        chosen = replace(record_from_world(prompt, record.source), meta=meta)
    else:
        chosen = replace(record, id=(ids or [record.id])[0], meta=meta)
    model = str(carried.get("model") or Path(record.source).stem)
    return CompletionRecord(number, chosen, str(found[0]), label, model)


def read_completions(config: ScoreConfig) -> tuple[list[CompletionRecord], int]:
    """The input's completions and how many malformed records were skipped."""
    path = Path(config.input).expanduser()
    mapping = FORMATS.get(config.file_format)
    extra = [mapping.completion, *COMPLETION_COLUMNS, mapping.label or "label", *_CARRIED]
    # The loader's `keep` carries the extra columns into `meta`, so every file type, its
    # line-numbered errors and --skip-bad work exactly as for suites.
    keep = tuple(dict.fromkeys([*mapping.keep, *(c for c in extra if c)]))
    loaded = load_prompts(path, replace(mapping, keep=keep), skip_bad=config.skip_bad)
    world, records, skipped = WorldPrompts(config.world_seed), [], loaded.skipped
    for number, record in enumerate(loaded.records, start=1):
        try:
            records.append(completion_record(number, record, mapping, world))
        except ValueError as error:
            if not config.skip_bad:
                raise HarmlabError(f"{path}: record {number} ('{record.id}'): {error}") from None
            skipped += 1
    if not records:
        raise HarmlabError(f"{path}: no usable completions")
    return records, skipped


def judged_rows(batch: Sequence[CompletionRecord], judges: Sequence[Judge]) -> list[dict[str, Any]]:
    """Every judge on a batch of records; their log lines, in order."""
    parsed = [split_response(r.completion) for r in batch]
    transcripts = [
        Transcript(r.prompt, r.completion, p.think, p.answer)
        for r, p in zip(batch, parsed, strict=True)
    ]
    verdicts, seconds = judge_batch(judges, transcripts)
    rows = []
    for record, spans, verdict in zip(batch, parsed, verdicts, strict=True):
        generation = Generation(
            record.completion, spans.think, spans.answer, spans.problems, 0, 0, 0.0
        )
        row = sample_row(record.prompt, 0, generation, verdict)
        for cost in ("completion_tokens", "think_tokens", "seconds"):
            del row[cost]  # no model ran here: there is no generation cost to report
        row |= {"key": record.key, "record": record.number, "label": record.label}
        rows.append(row | {"model": record.model, "judge_seconds": seconds})
    return rows


def observations(rows: Sequence[dict[str, Any]], spec: str) -> list[Observation]:
    """The judged records as the metrics see them through one judge's verdicts."""
    return [observe(r, r["completion"], r["verdicts"][spec], correct=r["correct"]) for r in rows]


def label_agreement(rows: Sequence[dict[str, Any]], spec: str) -> dict[str, Any]:
    """A judge's agreement with the human labels of the labelled rows: per model and pooled."""
    labelled = [r for r in rows if r["label"] is not None]
    try:
        judged = [
            compliance_label(SpanJudgement(**r["verdicts"][spec]["answer"]), spec) for r in labelled
        ]
    except HarmlabError as error:  # a harm-only judge says nothing about refusal
        return {"unavailable": str(error)}
    items = [
        LabelledCompletion(
            PromptRecord(r["prompt_id"], r["prompt"]), r["completion"], r["label"], r["model"]
        )
        for r in labelled
    ]
    pooled = agreement(spec, "all", [i.label for i in items], judged)
    return {
        "by_model": [a.as_dict() for a in agreements(spec, items, judged)],
        "pooled": pooled.as_dict(),
    }


def summarize_scores(rows: Sequence[dict[str, Any]], config: ScoreConfig) -> dict[str, Any]:
    """Per judge: headline rates with intervals, and agreement with labels when there are any."""
    labelled = sum(r["label"] is not None for r in rows)
    return {
        "input": config.input,
        "format": config.file_format,
        "records": len(rows),
        "labelled": labelled,
        "judges": {spec: judge_rates(observations(rows, spec)) for spec in config.judges},
        "agreement": {spec: label_agreement(rows, spec) for spec in config.judges}
        if labelled
        else {},
        "judge_seconds": {
            spec: sum(r["judge_seconds"][spec] for r in rows) for spec in config.judges
        },
    }


def _check_gold(config: ScoreConfig, records: Sequence[CompletionRecord]) -> None:
    if "gold" not in [spec.split(":")[0] for spec in config.judges]:
        return
    for record in records:
        if record.prompt.world is None:
            raise HarmlabError(
                f"{config.input}: record {record.number} ('{record.prompt.id}') names no "
                f"SafetyWorld prompt of world seed {config.world_seed}; the gold judge needs "
                "one (benign prompts also need their 'answer')"
            )


def score_file(
    config: ScoreConfig,
    out: str | Path,
    resume: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Judge every record of the input into the run folder `out`; returns the saved summary.

    The folder is locked (`FolderLock`) from before the judges are built until the summary is
    written: a second scorer of the same folder, in another process, is refused in one line
    naming the first one's PID (`LockedError`), before it loads a judge or writes a byte.
    `on_progress(done, total)` is called at the start and after every batch.
    """
    records, skipped = read_completions(config)
    _check_gold(config, records)
    with FolderLock(out, "judge score writing there"):
        context = JudgeContext(config.world_seed, resolve_data_dir(config.data_dir))
        judges = [make_judge(spec, context) for spec in config.judges]
        log = EvalLog(out)
        done = log.start(config.as_dict(), resume)  # shares this process's lock
        pending = [r for r in records if r.key not in done]
        finished = len(records) - len(pending)
        if on_progress:
            on_progress(finished, len(records))
        for start in range(0, len(pending), config.batch_size):
            batch = pending[start : start + config.batch_size]
            log.append(judged_rows(batch, judges))
            finished += len(batch)
            if on_progress:
                on_progress(finished, len(records))
        rows = log.rows()
        if len(rows) != len(records):
            raise HarmlabError(f"'{out}' holds {len(rows)} records, expected {len(records)}")
        summary = summarize_scores(rows, config) | {"skipped_rows": skipped}
        log.write_summary(summary)
        return summary
