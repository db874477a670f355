"""Progress reporting for long runs: epoch lines with elapsed time and ETA, and an
in-place progress bar for long steps (rendering, replay) when output is a terminal.
"""
from __future__ import annotations

import sys
import time
from typing import Optional, TextIO

__all__ = ["format_seconds", "Progress", "log"]


def format_seconds(s: float) -> str:
    """Format seconds as ``1h02m03s``, ``2m03s`` or ``4.5s``."""
    if not 0 <= s < float("inf"):  # NaN, negative or infinite
        return "?"
    if s < 60:
        return f"{s:.1f}s"
    m, sec = divmod(int(round(s)), 60)
    if m < 60:
        return f"{m}m{sec:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m{sec:02d}s"


def log(msg: str, stream: Optional[TextIO] = None) -> None:
    """Print one line to ``stream`` (default stdout) and flush."""
    stream = stream or sys.stdout
    print(msg, file=stream, flush=True)


class Progress:
    """Progress of one long step with ``total`` units of work.

    Draws an in-place bar on a terminal (``stream.isatty()``); elsewhere stays quiet
    until :meth:`close`, which prints one summary line. Usage::

        with Progress("replay", total=n) as p:
            for chunk in chunks:
                ...
                p.update(len(chunk))
    """

    def __init__(self, label: str, total: int, stream: Optional[TextIO] = None,
                 enabled: Optional[bool] = None, min_interval: float = 0.2):
        self.label, self.total = label, max(int(total), 1)
        self.stream = stream or sys.stderr
        tty = getattr(self.stream, "isatty", lambda: False)()
        self.enabled = tty if enabled is None else enabled
        self.done, self.t0, self._last = 0, time.perf_counter(), 0.0
        self.min_interval = min_interval

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if self.enabled and (now - self._last >= self.min_interval or self.done >= self.total):
            self._last = now
            frac = min(self.done / self.total, 1.0)
            el = now - self.t0
            eta = el / frac - el if frac > 0 else float("nan")
            bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
            self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} "
                              f"{format_seconds(el)} ETA {format_seconds(eta)}   ")
            self.stream.flush()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
        self.stream.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
