"""Reading rows from prompt files: JSONL, CSV, plain text, Parquet, datasets saved to disk.

    harmlab eval --model tiny --suite ./my_prompts.jsonl
    harmlab eval --model tiny --suite ./prompts.txt --limit 4       # one prompt a line

`read_rows` turns a file into its declared columns and an iterator of `Row`s, each carrying
where it is (a line for text files, a row number for Parquet and saved datasets, which have no
lines) so an error can name it; `harmlab.data.loaders` maps rows onto `PromptRecord`s. A CSV
record may span several lines (quoted newlines); its line is the one it starts on. A
plain-text file (`.txt`) holds one prompt a line, in a column named `prompt`; blank lines are
skipped.

Nothing is read whole: text files stream line by line with a per-line cap (MAX_LINE_BYTES),
Parquet a batch of rows at a time, and undecodable bytes and over-long lines become error rows
(`Row.values['__error__']`) like any other bad row, never a traceback; a missing, unreadable or
corrupt file is one `HarmlabError` line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from harmlab import HarmlabError

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
