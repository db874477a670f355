"""Hostile inputs for the public API: the values, the calls, and how an outcome is judged.

Every public entry point is listed in :data:`ENTRIES` with valid small arguments
(:class:`Arr`, :class:`Val`). A fuzzed call replaces some arguments with hostile values
(NaN, inf, huge or tiny magnitudes, wrong shapes, dtypes and types, absurd sizes) and
:func:`judge` classifies what happened:

``ok``         a result, and finite wherever every input was finite
``clean``      ``ValueError``, ``TypeError`` or ``FloatingPointError`` (a clear error)
``nonfinite``  a NaN or inf in the result although every input was finite
``other``      any other exception
``hang``       no answer within :data:`TIME_LIMIT` seconds

Sizes are drawn small or absurd (``10**30``), never in between, where the honest answer
would be an allocation of gigabytes.
"""
from __future__ import annotations

import math
import signal
import traceback
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

TIME_LIMIT = 20.0
CLEAN = (ValueError, TypeError, FloatingPointError)
_COMPLEX_WARNING = getattr(np, "exceptions", np).ComplexWarning


@dataclass
class Arr:
    """A valid array argument: ``shape``; ``kind`` unit ([0, 1]), sym ([-1, 1]), normal,
    labels (ints < ``k``, every class present) or index (ints < ``k``, distinct)."""
    shape: Tuple[int, ...]
    kind: str = "unit"
    k: int = 2
    dtype: Any = np.float64

    def make(self, rng: np.random.Generator) -> np.ndarray:
        if self.kind in ("labels", "index"):
            n = self.shape[0]
            v = np.arange(n) % self.k if self.kind == "labels" else rng.permutation(self.k)[:n]
            return rng.permutation(v).astype(np.int64) if self.kind == "labels" else np.sort(v)
        if self.kind == "sym":
            return rng.uniform(-1, 1, self.shape).astype(self.dtype)
        if self.kind == "normal":
            return rng.standard_normal(self.shape).astype(self.dtype)
        return rng.random(self.shape).astype(self.dtype)


@dataclass
class Val:
    """A valid scalar or other argument; ``kind`` picks its hostile values."""
    value: Any
    kind: str = "other"  # int, float, str, bool, rng, seq, other (never mutated)


def _arr_mutations() -> List[Tuple[str, Callable[[np.ndarray], Any]]]:
    def put(v):
        def f(a):
            a = np.array(a, dtype=np.float64 if a.dtype.kind not in "f" else a.dtype)
            if a.size:
                a.flat[a.size // 2] = v
            return a
        return f
    return [("nan", put(np.nan)), ("inf", put(np.inf)), ("-inf", put(-np.inf)),
            ("x1e300", lambda a: np.asarray(a, np.float64) * 1e300 + 1e300),
            ("x1e150", lambda a: np.asarray(a, np.float64) * 1e150 + 1e150),
            ("x1e-320", lambda a: np.asarray(a, np.float64) * 1e-320),
            ("negative", lambda a: -np.asarray(a, np.float64) - 1), ("x1e6", lambda a: np.asarray(a, np.float64) * 1e6),
            ("float16", lambda a: np.asarray(a).astype(np.float16)),
            ("float32", lambda a: np.asarray(a).astype(np.float32)),
            ("int", lambda a: np.round(np.asarray(a)).astype(np.int64)),
            ("bool", lambda a: np.asarray(a) > 0.5), ("complex", lambda a: np.asarray(a) + 1j),
            ("object", lambda a: np.asarray(a).astype(object)), ("str", lambda a: np.asarray(a).astype(str)),
            ("empty", lambda a: np.asarray(a)[:0]), ("ravel", lambda a: np.asarray(a).ravel()),
            ("add_axis", lambda a: np.asarray(a)[None]), ("scalar", lambda a: np.asarray(a).ravel()[:1].reshape(())),
            ("extra_col", lambda a: np.concatenate([a, a[..., :1]], axis=-1) if np.ndim(a) else a),
            ("one_row", lambda a: np.asarray(a)[:1]), ("none", lambda a: None),
            ("list", lambda a: np.asarray(a).tolist()),
            ("string", lambda a: "images.npz")]


ARRAY_MUTATIONS = _arr_mutations()
HOSTILE = {
    "int": [-1, 0, 1, 2, 3, 2.5, True, math.nan, math.inf, "2", None, 10 ** 30, -(10 ** 30), np.int64(2), [2]],
    "float": [0.0, -0.5, 1.5, math.nan, math.inf, -math.inf, 1e300, -1e300, 1e-320, 1e-300, True, "0.5", None,
              10 ** 400, np.float32(0.5), 1 + 1j],
    "str": ["", "nope", 3, None, b"svc"],
    "bool": [0, 1, 2, "yes", None, np.bool_(True)],
    "rng": [-1, 2.5, "seed", True, np.random.default_rng(0), 2 ** 70, [1, 2], None],
    "seq": [(), (1,), (math.nan, 1), (1e300, 1e300), "ab", None, [[1, 2]], (-1, -1), (10 ** 30, 3)],
}


@dataclass
class Entry:
    """``call(kwargs)`` of one public entry point with valid argument specs ``args``."""
    name: str
    call: Callable[[Dict[str, Any]], Any]
    args: Dict[str, Any]
    nan_ok: bool = False  # documented NaN results (e.g. a statistic of constant data)


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def build_kwargs(entry: Entry, rng: np.random.Generator, mutations: List[Tuple[str, int]]) -> Dict[str, Any]:
    """Valid arguments of ``entry``, then ``mutations``: (argument, index into its hostile values)."""
    kw = {k: (spec.make(rng) if isinstance(spec, Arr) else spec.value) for k, spec in entry.args.items()}
    for name, i in mutations:
        spec = entry.args[name]
        if isinstance(spec, Arr):
            kw[name] = ARRAY_MUTATIONS[i % len(ARRAY_MUTATIONS)][1](kw[name])
        else:
            pool = HOSTILE[spec.kind]
            kw[name] = pool[i % len(pool)]
    return kw


def mutable(entry: Entry) -> List[str]:
    return [k for k, s in entry.args.items() if isinstance(s, Arr) or s.kind != "other"]


def _finite(obj: Any, depth: int = 0) -> bool:
    if depth > 3:
        return True
    if isinstance(obj, (float, np.floating, complex, np.complexfloating)):
        return bool(np.isfinite(obj))
    if isinstance(obj, np.ndarray):
        return obj.dtype.kind not in "fc" or bool(np.all(np.isfinite(obj)))
    if isinstance(obj, dict):
        return all(_finite(v, depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(_finite(v, depth + 1) for v in obj[:1000])
    if hasattr(obj, "__dict__") and not isinstance(obj, type) and depth < 2:
        return all(_finite(v, depth + 1) for k, v in vars(obj).items() if not k.startswith("_"))
    return True


def judge(entry: Entry, kwargs: Dict[str, Any]) -> Tuple[str, Optional[str]]:
    """Call ``entry`` with ``kwargs``; return ``(outcome, detail)``."""
    inputs_finite = _finite(kwargs)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a documented warning (e.g. no convergence) is a result
            warnings.simplefilter("error", _COMPLEX_WARNING)  # silently dropped imaginary parts
            out = entry.call(dict(kwargs))
    except _Timeout:
        return "hang", f"{entry.name}: no answer in {TIME_LIMIT:g} s"
    except CLEAN:
        return "clean", None
    except Exception as exc:  # noqa: BLE001 -- anything else is what the fuzz looks for
        return "other", f"{entry.name}: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-4)}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    if inputs_finite and not entry.nan_ok and not _finite(out):
        return "nonfinite", f"{entry.name}: non-finite result from finite input"
    return "ok", None


def describe(kwargs: Dict[str, Any]) -> str:
    def one(v):
        if isinstance(v, np.ndarray):
            return f"array{v.shape}:{v.dtype}"
        return repr(v)[:40]
    return ", ".join(f"{k}={one(v)}" for k, v in kwargs.items())
