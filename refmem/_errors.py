"""How refmem reports problems: one exception for a wrong command line, one warning
class, and the exit status of a command.

* :class:`UsageError` (a ``ValueError``): the command itself is wrong, e.g. a config
  value out of range, a file named by a flag that does not exist or does not fit the
  run, ``--out`` that is a file, ``--resume`` of a folder that holds no run. Exit
  status 2.
* Any other ``ValueError``, ``TypeError``, ``OSError``, ``FloatingPointError`` or
  ``MemoryError`` while a command runs is a runtime failure (a damaged file, an
  unwritable folder, training that diverged, not enough memory). Exit status 1.
* :class:`RefmemWarning`: something was repaired on the way (a damaged cache file
  regenerated, a damaged checkpoint replaced by the previous one). Python code sees an
  ordinary warning; the command line prints it as one line.

:func:`exit_status` runs a command's function and turns these into one line on stderr
and the exit status, never a traceback.
"""
from __future__ import annotations

import sys
import warnings
from typing import Any, Callable

__all__ = ["UsageError", "RefmemWarning", "warn", "one_line", "exit_status"]

#: exit status of a wrong command line (as argparse uses)
USAGE = 2
#: exit status of a run that failed
FAILURE = 1
#: exit status after Ctrl-C
INTERRUPTED = 130

#: runtime failures a command reports in one line (anything else is a bug)
RUNTIME_ERRORS = (ValueError, TypeError, OSError, FloatingPointError, MemoryError, OverflowError)


class UsageError(ValueError):
    """The command line or config asks for something impossible (exit status 2)."""


class RefmemWarning(UserWarning):
    """A problem refmem repaired on the way (e.g. a damaged cache file regenerated)."""


def warn(message: str) -> None:
    """Issue ``message`` as a :class:`RefmemWarning` (one line on the command line)."""
    warnings.warn(message, RefmemWarning, stacklevel=3)


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (whitespace runs, newlines included, become one space).

    >>> one_line(ValueError("bad\\n  value"))
    'bad value'
    >>> one_line(MemoryError())
    'not enough memory (MemoryError)'
    """
    text = " ".join(str(exc).split())
    if isinstance(exc, MemoryError):
        return f"not enough memory ({text or 'MemoryError'})"
    if isinstance(exc, OSError) and getattr(exc, "filename", None) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return text or type(exc).__name__


def exit_status(prog: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    """Run ``fn(*args, **kwargs)`` as a command; return its exit status.

    The status is ``fn``'s own (``None`` counts as 0), 2 after a :class:`UsageError`,
    1 after another runtime failure (:data:`RUNTIME_ERRORS`) and 130 after Ctrl-C;
    an error is printed as one line ``PROG: error: MESSAGE`` on stderr. While ``fn``
    runs, a :class:`RefmemWarning` is printed as ``PROG: warning: MESSAGE``. Other
    exceptions (bugs) propagate with their traceback.
    """
    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, RefmemWarning):
            print(f"{prog}: warning: {' '.join(str(message).split())}", file=sys.stderr, flush=True)
        else:
            previous(message, category, filename, lineno, file, line)

    previous = warnings.showwarning
    with warnings.catch_warnings():
        warnings.showwarning = show
        try:
            return int(fn(*args, **kwargs) or 0)
        except KeyboardInterrupt:
            print(f"\n{prog}: interrupted", file=sys.stderr)
            return INTERRUPTED
        except UsageError as exc:
            print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
            return USAGE
        except RUNTIME_ERRORS as exc:
            print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
            return FAILURE
