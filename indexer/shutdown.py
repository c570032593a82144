"""Bounded shutdown of an indexer command on SIGTERM or SIGINT (Ctrl-C).

Without handlers, SIGTERM killed the indexer at once, leaving its embedded-database handle and temporary
files behind; as a container's first process it ignored SIGTERM altogether; and Ctrl-C waited for the model
call it landed in. Now the first signal asks the work to stop at its next ``check()`` (between frames,
segments, embedding batches and videos): the video in progress is rolled back (it is written in one
transaction) and its files removed, the database handle is released, and the command exits with
128 + the signal number. One model call between two checks can take long (a caption on a CPU): a watchdog
thread, woken through the signal wakeup fd even while the main thread is inside such a call, ends the
process ``deadline_s`` after the signal if the graceful stop has not finished, and at once on a second
signal. Nothing half-written is committed either way; the next run removes the files left behind.
"""
from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from contextlib import contextmanager

DEADLINE_S = 5.0
SIGNALS = (signal.SIGTERM, signal.SIGINT)
_requested: list[int] = []          # the signals received, first one first


class Stopped(BaseException):
    """Raised by ``check()`` once a stop was asked for. A BaseException, like KeyboardInterrupt, so that the
    ``except Exception`` which records one video as failed lets it through."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def requested() -> bool:
    return bool(_requested)


def check() -> None:
    """A point where the work may stop: raises Stopped after SIGTERM/SIGINT."""
    if _requested:
        raise Stopped(_requested[0])


@contextmanager
def stop_on_signals(release=None, deadline_s: float = DEADLINE_S):
    """Within the block, SIGTERM/SIGINT make ``check()`` raise, and the process exits ``deadline_s`` later
    whatever it is doing (``release()`` first, e.g. to let go of the embedded database). Only the main thread
    can take signals: elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _requested.clear()
    receive, wake = socket.socketpair()
    wake.setblocking(False)
    old_fd = signal.set_wakeup_fd(wake.fileno(), warn_on_full_buffer=False)
    old_handlers = {s: signal.signal(s, _noted) for s in SIGNALS}
    watchdog = threading.Thread(target=_watch, args=(receive, deadline_s, release), name="stop-watchdog",
                                daemon=True)
    watchdog.start()
    try:
        yield
    finally:
        for s, handler in old_handlers.items():
            signal.signal(s, handler)
        signal.set_wakeup_fd(old_fd)
        wake.send(b"\0")            # not a signal number: "finished", the watchdog returns
        watchdog.join(1)
        wake.close()
        receive.close()
        _requested.clear()          # the stop was for this block's work


def _noted(signum, frame) -> None:
    """The Python-level handler: the watchdog has the signal already (through the wakeup fd)."""


def _watch(receive: socket.socket, deadline_s: float, release) -> None:
    deadline = None
    while True:
        receive.settimeout(None if deadline is None else max(0.01, deadline - time.monotonic()))  # 0: non-blocking
        try:
            data = receive.recv(16)
        except TimeoutError:
            _give_up(f"it did not stop within {deadline_s:g} s", release)
            return
        except OSError:
            return
        for signum in data:
            if signum == 0:
                return
            if deadline is not None:
                _give_up(f"a second {signal.Signals(signum).name} came", release)
                return
            _requested.append(signum)
            deadline = time.monotonic() + deadline_s
            print(f"{signal.Signals(signum).name}: stopping within {deadline_s:g} s; the unfinished work is rolled "
                  "back", file=sys.stderr, flush=True)


def _give_up(why: str, release) -> None:
    """End the process now. The open transaction dies with its connection (rolled back)."""
    signum = _requested[0]
    print(f"error: {signal.Signals(signum).name}: exiting now because {why}. The unfinished work (the video in "
          "progress) was not committed; run the same command again to continue (it removes the files left behind).",
          file=sys.stderr, flush=True)
    if release is not None:
        releasing = threading.Thread(target=release, name="stop-release", daemon=True)
        releasing.start()
        releasing.join(3)
    os._exit(128 + signum)
