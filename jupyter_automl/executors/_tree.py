"""A trial owns its processes and temporary files: nothing it starts outlives it.

A process worker makes itself the leader of a new session (so every process a trial forks is
in the worker's process group, and the runner can kill the group at once) and, on Linux, a
*child subreaper* (so a grandchild whose parent exits is re-parented to the worker, not to
init, and is still found among the worker's descendants). After each trial the worker kills
its descendants and the members of its group, reaps them, and removes the trial's temporary
directory. Elsewhere than Linux this is best effort (process groups only).

A process that leaves the group *and* the session on purpose (``setsid`` of its own, as a
daemon does) is still a descendant of the subreaper and is killed too; one started through a
service manager (``systemd-run``) is not ours to kill.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "become_session_leader",
    "descendants",
    "group_members",
    "kill_descendants",
    "kill_group",
    "trial_tempdir",
]

_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_PDEATHSIG = 1


def _prctl(option: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except Exception:
        return False


def become_session_leader() -> None:
    """Start a new session and process group led by this process; adopt orphaned descendants."""
    with contextlib.suppress(OSError, AttributeError):
        os.setsid()
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def ask_signal_on_parent_death(signum: int) -> bool:
    """``PR_SET_PDEATHSIG``: the kernel sends ``signum`` when the thread that started us ends."""
    return _prctl(_PR_SET_PDEATHSIG, int(signum))


def _table() -> dict[int, tuple[int, int]]:
    """``pid → (ppid, pgid)`` of every process (``/proc``; empty where there is none)."""
    table: dict[int, tuple[int, int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # it ended meanwhile
        # after the command: state, ppid, pgrp, ...
        with contextlib.suppress(IndexError, ValueError):
            table[int(name)] = (int(fields[1]), int(fields[2]))
    return table


def descendants(pid: int, table: dict[int, tuple[int, int]] | None = None) -> list[int]:
    """Every process below ``pid`` (children, their children...), deepest last."""
    table = _table() if table is None else table
    children: dict[int, list[int]] = {}
    for child, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(child)
    found: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def group_members(pgid: int, table: dict[int, tuple[int, int]] | None = None) -> list[int]:
    """Processes in process group ``pgid``."""
    table = _table() if table is None else table
    return [p for p, (_, g) in table.items() if g == pgid]


def kill_descendants() -> list[int]:
    """SIGKILL every descendant of this process and every other member of its group; reap ours.

    Returns the pids that were killed. Called by a worker between trials: nothing of the last
    trial runs any more when the next one starts (or when the worker goes back to the pool).
    """
    me = os.getpid()
    killed: list[int] = []
    for _ in range(3):  # a process may fork while we kill its parent: look again
        table = _table()
        try:
            pgid = os.getpgid(0)
        except OSError:
            pgid = -1
        targets = set(descendants(me, table))
        if pgid == me:  # only when we lead the group: otherwise it is someone else's
            targets.update(group_members(pgid, table))
        targets.discard(me)
        if not targets:
            break
        for pid in targets:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        killed.extend(targets)
        _reap(targets)
    return sorted(set(killed))


def _reap(pids: set[int]) -> None:
    """Collect the exit status of those of ``pids`` that are our children (no zombies are left)."""
    end = time.monotonic() + 2.0
    for pid in pids:
        while True:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break  # not ours (or already collected)
            if done or time.monotonic() > end:
                break
            time.sleep(0.001)  # SIGKILL takes effect within the scheduler's next tick


def kill_group(pid: int) -> None:
    """SIGKILL the worker ``pid`` and its process group (what its trial started).

    A worker leads its group (:func:`become_session_leader`), and the group lives on after a
    crashed leader while any member does, so the group is killed by its id in every case; a
    kernel never gives the id of a live group to a new process. Its descendants that left the
    group (a daemon's ``setsid``) are looked up first and killed after it.
    """
    below = descendants(pid)
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue
    for child in below:
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGKILL)


@contextlib.contextmanager
def trial_tempdir(path: str | Path) -> Iterator[str]:
    """Point ``TMPDIR`` and :mod:`tempfile` at a fresh ``path`` for one trial; remove it afterwards."""
    path = str(path)
    shutil.rmtree(path, ignore_errors=True)  # a trial killed before it could clean up
    os.makedirs(path, mode=0o700, exist_ok=True)
    saved_env, saved_module = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"] = path
    tempfile.tempdir = path
    try:
        yield path
    finally:
        tempfile.tempdir = saved_module
        if saved_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_env
        shutil.rmtree(path, ignore_errors=True)


def trial_tempdir_of(pid: int, base: str | None = None) -> str:
    """Where the worker ``pid`` puts its running trial's temporary files."""
    return os.path.join(base or tempfile.gettempdir(), f"jupyter-automl-trial-{pid}")


@contextlib.contextmanager
def processes_end_with_block() -> Iterator[None]:
    """Processes started inside the block (by this process, or orphaned below it) are killed at its end.

    For the fits a search makes in its own process (the final refit): a fork there must not
    outlive the search. Processes that existed before the block are never touched, and only
    the new ones are reaped (a kernel's other children keep their exit status for their owners).
    """
    me = os.getpid()
    existed = set(_table())
    adopted = not _is_subreaper() and _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    try:
        yield
    finally:
        try:
            new = set(descendants(me)) - existed
            for pid in new:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            _reap(new)
        finally:
            if adopted:
                _prctl(_PR_SET_CHILD_SUBREAPER, 0)


def _is_subreaper() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        value = ctypes.c_int(0)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(37, ctypes.byref(value), 0, 0, 0)  # PR_GET_CHILD_SUBREAPER
        return bool(value.value)
    except Exception:
        return False
