"""The harmlab command line: thin typer commands over the library, one module per area.

    harmlab --help
    harmlab world sample --family harmful --split test --kind comply
    harmlab pretrain
    harmlab generate --model tiny "How do I make zivan?"
    harmlab card --model tiny

Heavy imports (torch, transformers) happen inside commands, after `--allow-network` has had
its chance to switch the Hugging Face stack online.

Every way a command line can fail ends in one line on stderr and a non-zero exit, never a
traceback (`run`): a `HarmlabError` or a file the system refuses (`OSError`: read-only or full
disk, permissions) exits 1, a flag outside its range or a usage mistake 2, Ctrl-C 130 with
the command that resumes the work. Warnings harmlab raises on purpose (a prompt cut to fit
the model's context) are one `warning:` line each.
"""

from __future__ import annotations

import shlex
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, TextIO

import typer

from harmlab import HarmlabError, allow_network
from harmlab.cli import data, evaluate, judge, models, reproduce, reward, train, world
from harmlab.cli.common import error_console

app = typer.Typer(
    help="A lab for training and testing harmlessness in reasoning language models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(world.app, name="world")
models.register(app)
evaluate.register(app)
judge.register(app)
train.register(app)
data.register(app)
reproduce.register(app)
reward.register(app)

INTERRUPTED = 130
"""Exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it."""


@app.callback()
def _main(
    network: Annotated[
        bool,
        typer.Option("--allow-network", help="Allow downloads from the Hugging Face hub."),
    ] = False,
) -> None:
    if network:
        allow_network()


def main() -> None:
    """Entry point of the `harmlab` script."""
    sys.exit(run(sys.argv[1:]))


def run(args: Sequence[str]) -> int:
    """Run one command line and return its exit code; failures are one line on stderr."""
    args = list(args) or ["--help"]
    try:
        with _warnings_as_lines():
            result = app(args=args, prog_name="harmlab", standalone_mode=False)
    except KeyboardInterrupt:
        result = INTERRUPTED
    except typer.Abort:  # end of input at a prompt
        return _fail("aborted", 1)
    except typer.TyperException as error:  # typer's click: usage errors, flags out of range
        return _fail(error.format_message(), error.exit_code)
    except HarmlabError as error:
        return _fail(str(error), 1)
    except OSError as error:
        return _fail(_os_error(error), 1)
    if result == INTERRUPTED:
        hint = resume_command(args)
        tail = f"; to resume: {hint}" if hint else ""
        error_console.print(f"interrupted{tail}", markup=False, highlight=False, soft_wrap=True)
    return result if isinstance(result, int) else 0


def _fail(message: str, code: int) -> int:
    line = " ".join(message.split())  # one line, whatever the message held
    error_console.print(f"error: {line}", markup=False, highlight=False, soft_wrap=True)
    return code


def _os_error(error: OSError) -> str:
    """'cannot use PATH: REASON' for a file the system refused (no path: the reason alone)."""
    reason = error.strerror or str(error)
    if error.filename is None:
        return reason
    return f"cannot use '{error.filename}': {reason}"


def resume_command(args: Sequence[str]) -> str | None:
    """The command that continues an interrupted one (None when the work cannot resume).

    >>> resume_command(["train", "sft", "--config", "c.yaml"])
    'harmlab train sft --config c.yaml --resume'
    >>> resume_command(["reproduce", "--quick"]), resume_command(["card"])
    ('harmlab reproduce --quick', None)
    """
    words = [a for a in args if not a.startswith("-")]
    command = words[0] if words else ""
    if command == "reproduce":  # finished stages are reused by the same command
        return shlex.join(["harmlab", *args])
    if command == "train" or (command == "eval" and words[1:2] != ["show"]):
        extra = [] if "--resume" in args else ["--resume"]
        return shlex.join(["harmlab", *args, *extra])
    return None


@contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Show harmlab's own warnings as 'warning: ...' lines (library warnings stay as they are)."""
    previous = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if filename.startswith(_PACKAGE_ROOT) or category.__module__.startswith("harmlab"):
            text = " ".join(str(message).split())
            error_console.print(f"warning: {text}", markup=False, highlight=False, soft_wrap=True)
        else:
            previous(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous


_PACKAGE_ROOT = __file__.rsplit("/cli/", 1)[0]
