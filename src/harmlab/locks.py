"""One writer per run folder, stage and cache entry: advisory locks that name their holder.

    harmlab eval --model tiny --suite world --out runs/eval/a &
    harmlab eval --model tiny --suite world --out runs/eval/a    # refused: names the first PID

A `FolderLock` is `fcntl.flock` on a small file beside the folder it guards
(`<parent>/.<name>.lock`), so the folder's own contents stay exactly what the run wrote. The
file holds the holder's PID and what it is doing, which the refusal message names. The kernel
drops the lock when the holding process ends, however it ends (`kill -9` included): a lock
file left behind by a dead process is taken over by the next writer, so there is no stale
state to clean up and the leftover file never blocks a rerun.

A lock this process already holds is shared rather than refused (re-entrant), so a library
call inside a command that holds a run folder never deadlocks against its own process; the
lock is released when its last holder releases it or is garbage-collected.
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from harmlab import HarmlabError


class LockedError(HarmlabError):
    """The folder is being written by another process."""


@dataclass
class _Held:
    """An open, locked lock file of this process and how many holders share it."""

    fd: int
    holders: int


_HELD: dict[Path, _Held] = {}
_GUARD = threading.Lock()


def lock_file(folder: Path) -> Path:
    """The lock file that guards `folder`: a hidden sibling, `<parent>/.<name>.lock`."""
    folder = Path(os.path.abspath(folder))
    return folder.parent / f".{folder.name}.lock"


def lock_holder(path: Path) -> tuple[int | None, str]:
    """The PID and purpose written in a lock file (None and '' when missing or garbled)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None, ""
    pid = int(lines[0]) if lines and lines[0].strip().isdigit() else None
    return pid, lines[1].strip() if len(lines) > 1 else ""


class FolderLock:
    """An exclusive advisory lock on a folder, for as long as this object holds it.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root, FolderLock(Path(root) / "run", "a test"):
    ...     pass
    """

    def __init__(self, folder: str | Path, purpose: str) -> None:
        self.folder = Path(folder)
        self.purpose = purpose
        """What the holder does there ('evaluation', 'training run', ...), for messages."""
        self.path = lock_file(self.folder)
        self.waited = False
        """True when `acquire(wait=True)` had to wait for another process to let go."""
        self._release: weakref.finalize[[Path], FolderLock] | None = None

    def acquire(
        self, wait: bool = False, on_wait: Callable[[int | None], None] | None = None
    ) -> FolderLock:
        """Take the lock; when another process holds it, refuse (or wait when `wait`).

        `on_wait(pid)` is called once before waiting, to tell the user why nothing happens.
        """
        if self._release is not None and self._release.alive:
            return self
        with _GUARD:
            held = _HELD.get(self.path)
            if held is not None:
                held.holders += 1
            else:
                _HELD[self.path] = _Held(self._lock(wait, on_wait), 1)
        self._release = weakref.finalize(self, _release, self.path)
        return self

    def release(self) -> None:
        """Give the lock up (a no-op when not held)."""
        if self._release is not None:
            self._release()

    def _lock(self, wait: bool, on_wait: Callable[[int | None], None] | None) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as error:
            raise HarmlabError(
                f"cannot create the lock file '{self.path}': {error.strerror}"
            ) from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid, purpose = lock_holder(self.path)
                if not wait:
                    raise LockedError(self._refusal(pid, purpose)) from None
                if on_wait is not None:
                    on_wait(pid)
                self.waited = True
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n{self.purpose}\n".encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _refusal(self, pid: int | None, purpose: str) -> str:
        who = f"process {pid}" if pid else "another process"
        doing = f" ({purpose})" if purpose else ""
        return (
            f"'{self.folder}' is in use by {who}{doing}; wait for it to finish, stop it, or "
            "choose another folder"
        )

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()


def _release(path: Path) -> None:
    """Drop one holder of `path`; the last one unlocks and closes the file (it stays on disk:
    deleting a lock file races with a process that has just opened it)."""
    with _GUARD:
        held = _HELD.get(path)
        if held is None:
            return
        held.holders -= 1
        if held.holders == 0:
            del _HELD[path]
            os.close(held.fd)  # closing the last descriptor releases the flock
