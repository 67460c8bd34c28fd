"""Advisory folder locks: one writer per folder, the holder named, dead holders taken over."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harmlab.locks import FolderLock, LockedError, lock_file, lock_holder

HOLD = textwrap.dedent(
    """
    import sys, time
    from harmlab.locks import FolderLock
    lock = FolderLock(sys.argv[1], "a test holder").acquire()
    print("held", flush=True)
    time.sleep(60)
    """
)


def _holder(folder: Path) -> subprocess.Popen[str]:
    """Another process that takes the lock on `folder` and keeps it until killed."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def test_a_second_process_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    holder = _holder(folder)
    try:
        with pytest.raises(LockedError) as error:
            FolderLock(folder, "an evaluation").acquire()
        message = str(error.value)
        assert f"'{folder}' is in use by process {holder.pid} (a test holder)" in message
        assert "\n" not in message
    finally:
        holder.kill()
        holder.wait()
    with FolderLock(folder, "an evaluation"):  # the kernel released the dead holder's lock
        assert lock_holder(lock_file(folder))[0] == os.getpid()


def test_a_lock_file_left_by_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    lock_file(folder).parent.mkdir(parents=True, exist_ok=True)
    lock_file(folder).write_text(dead.stdout)
    with FolderLock(folder, "a rerun"):
        assert lock_holder(lock_file(folder))[0] == os.getpid()
    assert not folder.exists()  # the lock sits beside the folder, never inside it


def test_the_same_process_shares_its_lock_until_the_last_holder_lets_go(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    outer = FolderLock(folder, "outer").acquire()
    inner = FolderLock(folder, "inner").acquire()  # re-entrant: no deadlock, no refusal
    inner.release()
    check = (
        "from harmlab.locks import FolderLock; import sys; FolderLock(sys.argv[1], 'x').acquire()"
    )
    refused = subprocess.run([sys.executable, "-c", check, str(folder)], capture_output=True)
    assert refused.returncode != 0 and b"in use by process" in refused.stderr
    del outer  # garbage collection releases, as when an EvalLog goes away
    assert subprocess.run([sys.executable, "-c", check, str(folder)]).returncode == 0


def test_waiting_for_a_holder_reports_it_then_proceeds(tmp_path: Path) -> None:
    folder = tmp_path / "cache-entry"
    holder = _holder(folder)
    seen: list[int | None] = []

    def report(pid: int | None) -> None:
        seen.append(pid)
        holder.kill()  # the holder dies while we wait: the wait must end

    lock = FolderLock(folder, "pretraining").acquire(wait=True, on_wait=report)
    holder.wait()
    assert seen == [holder.pid] and lock.waited
    lock.release()


def test_a_lock_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    parent = tmp_path / "read-only"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        if os.access(parent, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        with pytest.raises(Exception, match="cannot create the lock file") as error:
            FolderLock(parent / "run", "a run").acquire()
        assert "Permission denied" in str(error.value)
    finally:
        parent.chmod(0o700)
