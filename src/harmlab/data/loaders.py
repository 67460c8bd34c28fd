"""Reading prompt files: JSONL, CSV, plain text, Parquet and Hugging Face datasets on disk.

    harmlab eval --model tiny --suite ./my_prompts.jsonl
    harmlab eval --model tiny --suite ./prompts.txt --limit 4       # one prompt a line
    harmlab eval --model tiny --suite ./harmbench.csv --format harmbench --skip-bad

A `ColumnMapping` says which column holds the prompt, its id, family, category and language, so
any layout loads into `PromptRecord`s (built-in layouts live in `harmlab.data.formats`). Every
problem is one line naming the file, the line (CSV/JSONL; a row number for Parquet and saved
datasets, which have no lines) and the field:

    prompts.csv:line 7: field 'label' is 'maybe'; expected one of: safe, unsafe

With `skip_bad=True` malformed rows are dropped and counted instead (`PromptSet.skipped`).
A CSV record may span several lines (quoted newlines); its line is the one it starts on.
A plain-text file (`.txt`) holds one prompt a line, in a column named `prompt`; blank lines
are skipped. Prompt ids must be unique within a file (they key an evaluation's samples).

Nothing is read whole: text files stream line by line with a per-line cap (MAX_LINE_BYTES),
Parquet a batch of rows at a time, and undecodable bytes, corrupt files and over-long lines
are row errors like any other, never a traceback.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from harmlab import HarmlabError
from harmlab.data.records import (
    COMPLIANCE_LABELS,
    FAMILY_NAMES,
    LabelledCompletion,
    LabelledSet,
    PromptRecord,
    PromptSet,
)

FILE_KINDS = ("jsonl", "csv", "txt", "parquet", "hf-disk")

MAX_LINE_BYTES = 1 << 20
"""Longest line (JSONL, CSV, plain text) or text field read, 1 MiB: far beyond any model's
context, and a bound on the memory one malformed line can take (a 5 MB line once made a
machine swap to death further down the pipeline)."""

_SUFFIXES = {
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".txt": "txt",
    ".parquet": "parquet",
}


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


@dataclass(frozen=True)
class Row:
    """One record of a file and where it is, for error messages."""

    values: dict[str, Any]
    where: str
    """'line 7' for text files, 'row 7' for columnar ones."""


class _LineTooLong(Exception):
    """Raised inside a CSV reader's line source: the reader cannot go on past it."""


def file_kind(path: Path) -> str:
    """jsonl, csv, txt, parquet or hf-disk, from the suffix (a folder is a saved dataset)."""
    if path.is_dir():
        return "hf-disk"
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise HarmlabError(
            f"{path}: unknown file type '{suffix}'; expected .jsonl, .csv, .txt, "
            ".parquet or a folder saved by datasets.save_to_disk"
        )
    return _SUFFIXES[suffix]


def read_rows(path: str | Path, split: str | None = None) -> tuple[list[str], Iterator[Row]]:
    """The columns a file declares (empty for JSONL) and an iterator over its rows.

    Text files are streamed line by line, never read whole; a line longer than MAX_LINE_BYTES
    is an error row (CSV stops there, since a reader cannot resynchronise mid-record).
    """
    path = Path(path)
    if not path.exists():
        raise HarmlabError(f"{path}: no such file or folder")
    kind = file_kind(path)
    if kind == "jsonl":
        return [], _jsonl_rows(path)
    if kind == "txt":
        return ["prompt"], _txt_rows(path)
    if kind == "csv":
        return _csv_rows(path)
    if kind == "parquet":
        return _parquet_rows(path)
    return _hf_disk_rows(path, split)


def _open(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as error:
        raise HarmlabError(f"{path}: cannot be read ({error.strerror})") from None


def _lines(path: Path, handle: BinaryIO) -> Iterator[tuple[int, str | None, str]]:
    """(line number, text or None, problem) per line, each read with the size cap."""
    number = 0
    while True:
        try:
            data = handle.readline(MAX_LINE_BYTES + 1)
        except OSError as error:
            raise HarmlabError(f"{path}: cannot be read ({error.strerror})") from None
        if not data:
            return
        number += 1
        if len(data) > MAX_LINE_BYTES and not data.endswith(b"\n"):
            while data and not data.endswith(b"\n"):  # skip the rest, a bounded chunk at a time
                data = handle.readline(MAX_LINE_BYTES)
            yield number, None, f"line longer than {MAX_LINE_BYTES} bytes"
            continue
        try:
            yield number, data.decode("utf-8-sig" if number == 1 else "utf-8"), ""
        except UnicodeDecodeError as error:
            yield number, None, f"not UTF-8 text (byte {error.start + 1}: {error.reason})"


def _jsonl_rows(path: Path) -> Iterator[Row]:
    with _open(path) as handle:
        for number, line, problem in _lines(path, handle):
            where = f"line {number}"
            if line is None:
                yield Row({"__error__": problem}, where)
                continue
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                yield Row({"__error__": f"invalid JSON ({error.msg})"}, where)
                continue
            except (ValueError, RecursionError) as error:  # huge integers, deep nesting
                yield Row({"__error__": f"invalid JSON ({error})"}, where)
                continue
            if not isinstance(value, dict):
                value = {"__error__": f"expected a JSON object, found {type(value).__name__}"}
            yield Row(value, where)


def _txt_rows(path: Path) -> Iterator[Row]:
    """One prompt a line; blank lines are skipped (the row number stays the line number)."""
    with _open(path) as handle:
        for number, line, problem in _lines(path, handle):
            if line is None:
                yield Row({"__error__": problem}, f"line {number}")
            elif line.strip():
                yield Row({"prompt": line.strip()}, f"line {number}")


def _csv_lines(path: Path, handle: BinaryIO) -> Iterator[str]:
    """The text lines a csv.reader consumes; a too long or undecodable one ends the file."""
    for number, line, problem in _lines(path, handle):
        if line is None:
            raise _LineTooLong(f"line {number}: {problem}")
        yield line


def _csv_rows(path: Path) -> tuple[list[str], Iterator[Row]]:
    handle = _open(path)
    reader = csv.reader(_csv_lines(path, handle), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        raise HarmlabError(f"{path}: empty file, no header line") from None
    except (csv.Error, _LineTooLong) as error:
        handle.close()
        raise HarmlabError(f"{path}:line 1: malformed CSV header ({error})") from None

    def rows() -> Iterator[Row]:
        start = reader.line_num + 1
        with handle:
            while True:
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except _LineTooLong as error:
                    where, _, problem = str(error).partition(": ")
                    yield Row({"__error__": problem}, where)
                    return
                except csv.Error as error:
                    yield Row({"__error__": f"malformed CSV ({error})"}, f"line {start}")
                    return  # the reader cannot resynchronise after a quoting error
                where, start = f"line {start}", reader.line_num + 1
                if not values:
                    continue
                if len(values) != len(header):
                    problem = f"has {len(values)} fields, the header has {len(header)}"
                    yield Row({"__error__": problem}, where)
                    continue
                yield Row(dict(zip(header, values, strict=True)), where)

    return header, rows()


def _parquet_rows(path: Path) -> tuple[list[str], Iterator[Row]]:
    """Columns and rows of a Parquet file, read a batch of rows at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def corrupt(error: Exception) -> HarmlabError:
        return HarmlabError(f"{path}: not a readable Parquet file ({error})")

    try:
        parquet = pq.ParquetFile(path)
        columns = list(parquet.schema_arrow.names)
    except (OSError, pa.ArrowException) as error:
        raise corrupt(error) from None

    def rows() -> Iterator[Row]:
        number = 0
        try:
            for batch in parquet.iter_batches(batch_size=1024):
                for values in batch.to_pylist():
                    number += 1
                    yield Row(values, f"row {number}")
        except (OSError, pa.ArrowException) as error:
            raise corrupt(error) from None

    return columns, rows()


def _hf_disk_rows(path: Path, split: str | None) -> tuple[list[str], Iterator[Row]]:
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except (OSError, ValueError) as error:  # missing files, corrupt Arrow (ArrowInvalid)
        raise HarmlabError(
            f"{path}: not a dataset saved by datasets.save_to_disk ({error})"
        ) from None
    if isinstance(loaded, datasets.DatasetDict):
        names = list(loaded)
        chosen = split or (names[0] if len(names) == 1 else "train")
        if chosen not in loaded:
            raise HarmlabError(f"{path}: no split '{chosen}'; splits: {', '.join(names)}")
        loaded = loaded[chosen]
    rows = (Row(dict(values), f"row {n}") for n, values in enumerate(loaded, start=1))
    return list(loaded.column_names), rows


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
        raise HarmlabError(f"{path}: missing column '{missing[0]}' (columns: {', '.join(header)})")


def _text(path: Path, row: Row, name: str, strip: bool = True) -> str:
    """A required, non-empty text field of a row (stripped unless `strip` is False)."""
    if name not in row.values:
        raise ValueError(f"{path}:{row.where}: missing field '{name}'")
    value = row.values[name]
    if value is None or (isinstance(value, float) and value != value) or not str(value).strip():
        raise ValueError(f"{path}:{row.where}: field '{name}' is empty")
    text = str(value)
    if len(text) > MAX_LINE_BYTES:  # columnar files have no lines to cap while reading
        raise ValueError(
            f"{path}:{row.where}: field '{name}' holds {len(text)} characters; "
            f"the limit is {MAX_LINE_BYTES}"
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
