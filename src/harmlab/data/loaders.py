"""Loading prompt files into prompt sets: column mappings, row checks, labelled completions.

    harmlab eval --model tiny --suite ./my_prompts.jsonl
    harmlab eval --model tiny --suite ./harmbench.csv --format harmbench --skip-bad

A `ColumnMapping` says which column holds the prompt, its id, family, category and language, so
any layout loads into `PromptRecord`s (built-in layouts live in `harmlab.data.formats`; the
file kinds, JSONL, CSV, plain text, Parquet and saved datasets, are read by
`harmlab.data.readers`). Every problem is one line naming the file, the line (CSV/JSONL; a row
number for Parquet and saved datasets, which have no lines) and the field:

    prompts.csv:line 7: field 'label' is 'maybe'; expected one of: safe, unsafe

With `skip_bad=True` malformed rows are dropped and counted instead (`PromptSet.skipped`).
Prompt ids must be unique within a file (they key an evaluation's samples). A text field is
capped at `readers.MAX_LINE_BYTES` here too, since columnar files have no lines to cap while
reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harmlab import HarmlabError
from harmlab.data import readers
from harmlab.data.readers import Row, read_rows
from harmlab.data.records import (
    COMPLIANCE_LABELS,
    FAMILY_NAMES,
    LabelledCompletion,
    LabelledSet,
    PromptRecord,
    PromptSet,
)


@dataclass(frozen=True)
class ColumnMapping:
    """Which columns of a file hold which fields of a `PromptRecord` (and of a label)."""

    text: str = "prompt"
    """Column with the prompt text (required, non-empty)."""
    id: str | None = None
    """Column with a stable id; None numbers the rows from 1."""
    family: str | None = None
    """Column whose value decides the family (through family_values); None: default_family."""
    family_values: Mapping[str, str] = field(default_factory=dict)
    """Raw value of the family column -> harmful, benign or borderline."""
    default_family: str = "harmful"
    """Family of every row when there is no family column."""
    category: str | None = None
    """Column with the harm category or prompt type."""
    language: str | None = None
    """Column with the prompt language; None means English."""
    context: str | None = None
    """Column with context placed before the text, as HarmBench's contextual behaviours are
    sent (context, a '---' rule, then the request); empty values add nothing."""
    keep: tuple[str, ...] = ()
    """Further columns copied into `PromptRecord.meta` when present."""
    completion: str | None = None
    """Labelled files only: column with the model's completion."""
    label: str | None = None
    """Labelled files only: column with the human label."""
    label_values: Mapping[str, str] = field(default_factory=dict)
    """Raw label -> one of full_compliance, full_refusal, partial_refusal."""


class _BadRows:
    """Raises on the first bad row, or counts bad rows when skipping them."""

    def __init__(self, skip: bool) -> None:
        self.skip = skip
        self.count = 0
        self.first = ""

    def __call__(self, message: str) -> None:
        if not self.skip:
            raise HarmlabError(message)
        self.count += 1
        self.first = self.first or message


def _check_header(path: Path, header: list[str], needed: list[str | None]) -> None:
    missing = [name for name in needed if name and header and name not in header]
    if missing:
        # A header is file content: a quoted name may hold a line break, and the error is one line.
        columns = ", ".join(" ".join(name.split()) for name in header)
        raise HarmlabError(f"{path}: missing column '{missing[0]}' (columns: {columns})")


def _text(path: Path, row: Row, name: str, strip: bool = True) -> str:
    """A required, non-empty text field of a row (stripped unless `strip` is False)."""
    if name not in row.values:
        raise ValueError(f"{path}:{row.where}: missing field '{name}'")
    value = row.values[name]
    if value is None or (isinstance(value, float) and value != value) or not str(value).strip():
        raise ValueError(f"{path}:{row.where}: field '{name}' is empty")
    text = str(value)
    limit = readers.MAX_LINE_BYTES  # the one cap, for lines and for fields
    if len(text) > limit:  # columnar files have no lines to cap while reading
        raise ValueError(
            f"{path}:{row.where}: field '{name}' holds {len(text)} characters; the limit is {limit}"
        )
    return text.strip() if strip else text


def _mapped(path: Path, row: Row, name: str, values: Mapping[str, str]) -> str:
    raw = _text(path, row, name)
    if raw not in values:
        raise ValueError(
            f"{path}:{row.where}: field '{name}' is '{raw}'; expected one of: {', '.join(values)}"
        )
    return values[raw]


def _record(path: Path, row: Row, mapping: ColumnMapping, number: int) -> PromptRecord:
    if "__error__" in row.values:
        raise ValueError(f"{path}:{row.where}: {row.values['__error__']}")
    text = _text(path, row, mapping.text)
    context = str(row.values.get(mapping.context) or "").strip() if mapping.context else ""
    if context:
        text = f"{context}\n\n---\n\n{text}"
    family = mapping.default_family
    if mapping.family:
        family = _mapped(path, row, mapping.family, mapping.family_values)
    values = row.values
    return PromptRecord(
        id=_text(path, row, mapping.id) if mapping.id else str(number),
        text=text,
        family=family,
        category=str(values.get(mapping.category) or "") if mapping.category else "",
        language=str(values.get(mapping.language) or "en") if mapping.language else "en",
        source=path.name,
        meta={k: values[k] for k in mapping.keep if k in values and values[k] not in (None, "")},
    )


def load_prompts(
    path: str | Path,
    mapping: ColumnMapping | None = None,
    *,
    skip_bad: bool = False,
    split: str | None = None,
    name: str | None = None,
) -> PromptSet:
    """Every row of a prompt file as a `PromptRecord`; a bad row raises (or is skipped)."""
    path, mapping = Path(path), mapping or ColumnMapping()
    if mapping.default_family not in FAMILY_NAMES:
        raise HarmlabError(f"unknown family '{mapping.default_family}'; valid: {FAMILY_NAMES}")
    header, rows = read_rows(path, split)
    _check_header(path, header, [mapping.text, mapping.id, mapping.family])
    bad, records, first_seen = _BadRows(skip_bad), [], dict[str, str]()
    for number, row in enumerate(rows, start=1):
        try:
            record = _record(path, row, mapping, number)
            if record.id in first_seen:  # ids key a run's samples: a repeat would never finish
                raise ValueError(
                    f"{path}:{row.where}: id '{record.id}' repeats the one at "
                    f"{first_seen[record.id]}; ids must be unique"
                )
        except ValueError as error:
            bad(str(error))
            continue
        first_seen[record.id] = row.where
        records.append(record)
    if not records:
        raise HarmlabError(f"{path}: no usable prompts" + (f" ({bad.first})" if bad.first else ""))
    return PromptSet(name or path.name, tuple(records), bad.count, bad.first)


def load_labelled(
    path: str | Path,
    mapping: ColumnMapping,
    *,
    model: str,
    skip_bad: bool = False,
) -> LabelledSet:
    """Completions with human labels (mapping.completion and mapping.label must be set)."""
    path = Path(path)
    if not mapping.completion or not mapping.label:
        raise HarmlabError("a labelled-completion mapping needs completion and label columns")
    header, rows = read_rows(path)
    _check_header(path, header, [mapping.text, mapping.id, mapping.completion, mapping.label])
    bad, items = _BadRows(skip_bad), []
    for number, row in enumerate(rows, start=1):
        try:
            record = _record(path, row, mapping, number)
            label = _mapped(path, row, mapping.label, mapping.label_values or _IDENTITY)
            completion = _text(path, row, mapping.completion, strip=False)
        except ValueError as error:
            bad(str(error))
            continue
        items.append(LabelledCompletion(record, completion, label, model))
    if not items:
        raise HarmlabError(f"{path}: no usable labelled completions")
    return LabelledSet(path.name, tuple(items), bad.count, bad.first)


_IDENTITY = {label: label for label in COMPLIANCE_LABELS}
