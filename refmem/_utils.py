"""Shared helpers: input validation, random generators and atomic file output.

Every public function of refmem validates its input through these helpers so that
error messages read the same everywhere, and writes files only through the atomic
writers below (write to a temporary file in the same folder, then ``os.replace``),
so an interrupted run never leaves a half-written checkpoint or result.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import time
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np

__all__ = [
    "as_rng",
    "portable_path",
    "spawn_rngs",
    "check_array",
    "check_float_array",
    "check_positive",
    "check_real",
    "check_magnitude",
    "check_int",
    "atomic_write_bytes",
    "remove_temp_files",
    "save_json",
    "load_json",
    "save_npz",
    "load_npz",
]

RngLike = Union[None, int, np.random.SeedSequence, np.random.BitGenerator, np.random.Generator]


def as_rng(rng: RngLike = None) -> np.random.Generator:
    """Normalise ``rng`` to a :class:`numpy.random.Generator` (SPEC 7).

    Parameters
    ----------
    rng : None, int, SeedSequence, BitGenerator or Generator
        A Generator is returned unchanged (so the caller's stream advances);
        anything else is passed to :func:`numpy.random.default_rng`.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (bool, float, str)):
        raise TypeError(f"rng must be None, an int, a SeedSequence or a numpy Generator, got {type(rng).__name__}")
    return np.random.default_rng(rng)


def spawn_rngs(seed: Union[int, np.random.SeedSequence], names: Sequence[str]) -> dict:
    """Independent, named random streams derived from one seed.

    Each name gets its own child of ``SeedSequence(seed)``, so adding draws to one
    stream (say ``"batches"``) never moves another (say ``"replay"``). The child for a
    name depends only on the seed and the name's position in ``names``.

    Returns
    -------
    dict of str -> numpy.random.Generator
    """
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(int(seed))
    children = ss.spawn(len(names))
    return {name: np.random.default_rng(child) for name, child in zip(names, children)}


def check_array(x: Any, name: str = "x", *, ndim: Optional[int] = None,
                shape: Optional[Sequence[Optional[int]]] = None, finite: bool = True,
                dtype_kind: Optional[str] = None, min_size: int = 0) -> np.ndarray:
    """Convert ``x`` to an ndarray and check rank, shape, dtype kind and finiteness.

    Parameters
    ----------
    x : array_like
    name : str
        Name used in error messages.
    ndim : int, optional
        Required number of dimensions.
    shape : sequence of int or None, optional
        Required shape; ``None`` entries match any size.
    finite : bool, default True
        Reject NaN and inf (for float arrays).
    dtype_kind : str, optional
        Allowed ``dtype.kind`` characters, e.g. ``"f"`` or ``"iu"``. Complex arrays
        are refused unless ``"c"`` is allowed.
    min_size : int, default 0
        Minimum number of elements.

    Raises
    ------
    TypeError
        Wrong dtype kind.
    ValueError
        Wrong rank or shape, too few elements, or non-finite values.
    """
    if x is None:
        raise TypeError(f"{name} must be an array, got None")
    arr = np.asarray(x)
    if arr.dtype == object:
        raise TypeError(f"{name} must be a numeric array, got dtype object")
    if arr.dtype.kind == "c" and (dtype_kind is None or "c" not in dtype_kind):
        raise TypeError(f"{name} must be a real array, got dtype {arr.dtype}")
    if dtype_kind is not None and arr.dtype.kind not in dtype_kind:
        raise TypeError(f"{name} must have dtype kind in {dtype_kind!r}, got {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        want = f"shape {_fmt_shape(shape)}" if shape is not None else f"{ndim} dimensions"
        raise ValueError(f"{name} must have {want}, got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
            raise ValueError(f"{name} must have shape {_fmt_shape(shape)}, got {arr.shape}")
    if arr.size < min_size:
        raise ValueError(f"{name} must have at least {min_size} element(s), got shape {arr.shape}")
    if finite and arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


#: largest magnitude accepted where squares or products of the values are taken: beyond
#: it they overflow float64 (sqrt(max float64) is 1.3e154)
MAX_MAGNITUDE = 1e150


def check_magnitude(arr: np.ndarray, name: str = "x", limit: float = MAX_MAGNITUDE) -> np.ndarray:
    """Return ``arr`` after checking ``max |arr| <= limit`` (squares of larger values overflow).

    For a float dtype narrower than float64 the limit is at most ``sqrt(max) / 16``
    (1.2e18 for float32).
    """
    if arr.dtype.kind == "f":
        limit = min(limit, float(np.sqrt(np.finfo(arr.dtype).max)) / 16)
    if arr.size and float(np.abs(arr).max()) > limit:
        raise ValueError(f"{name} has values beyond ±{limit:.3g} (max |x| = {float(np.abs(arr).max()):.3g}); "
                         f"their squares overflow: rescale them")
    return arr


def check_float_array(x: Any, name: str = "x", **kwargs) -> np.ndarray:
    """Like :func:`check_array`, but return a floating array.

    Float input keeps its dtype (float32 stays float32); integer or bool input is
    converted to float64.
    """
    arr = check_array(x, name, **kwargs)
    if arr.dtype.kind == "f":
        return arr
    if arr.dtype.kind in "biu":
        return arr.astype(np.float64)
    raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")


def _as_real(value: Any, name: str) -> float:
    """``float(value)`` for a real number; ``TypeError`` for anything else (str, bool, complex,
    arrays, None); ``ValueError`` for an int beyond the float range."""
    import numbers

    if isinstance(value, (str, bytes, bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}"[:200])
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{name} must be finite, got {value!r}"[:200]) from None


def check_real(value: Any, name: str, low: float = -np.inf, high: float = np.inf, *,
               low_open: bool = False, high_open: bool = False) -> float:
    """Return ``float(value)`` after checking it is a finite real number in the interval.

    The interval is ``[low, high]``, with either end open if ``low_open``/``high_open``.

    Raises
    ------
    TypeError
        Not a real number (str, bool, complex, an array, None).
    ValueError
        NaN, infinite (or an int beyond the float range), or outside the interval.
    """
    v = _as_real(value, name)
    if not np.isfinite(v) or v < low or v > high or (low_open and v == low) or (high_open and v == high):
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be a finite number in {interval}, got {value!r}"[:200])
    return v


def check_positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``float(value)`` after checking it is finite and > 0 (or >= 0)."""
    v = _as_real(value, name)
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}"[:200])
    return v


_INT64_MAX = np.iinfo(np.int64).max


def check_int(value: Any, name: str, minimum: Optional[int] = None) -> int:
    """Return ``int(value)`` after checking it is an integer (not a bool) and >= ``minimum``.

    Raises
    ------
    TypeError
        ``value`` is not an integer (floats such as ``3.0`` and bools are rejected).
    ValueError
        ``value < minimum``, or beyond the 64-bit integer range.
    """
    import numbers

    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}"[:200])
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}"[:200])
    if abs(int(value)) > _INT64_MAX:
        raise ValueError(f"{name} must fit a 64-bit integer, got {value}"[:200])
    return int(value)


def _fmt_shape(shape: Iterable[Optional[int]]) -> str:
    return "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"


# --------------------------------------------------------------------------- files
#: the names :func:`atomic_write_bytes` gives its temporary files (``tempfile.mkstemp``:
#: the prefix, the writer's process id and ``-``, 8 random characters, then the target's name)
TEMP_PREFIX = ".tmp-"
_TEMP_NAME = re.compile(r"\.tmp-(?:(\d+)-)?[a-z0-9_]{8}.+")
#: a temporary file younger than this whose writer may still be running is left alone
_LIVE_WRITER_AGE = 3600.0


def _writer_running(pid: int) -> bool:
    """Whether process ``pid`` (another than this one) may still be writing (POSIX only)."""
    if pid == os.getpid():
        return False
    if os.name != "posix":
        return True  # no safe liveness probe: trust the file's age instead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def portable_path(path: Union[str, os.PathLike, None]) -> Optional[str]:
    """``path`` as results record it: a path in the user's home folder is written ``~/...``.

    Results and reports name the files a run used (a cached VAE, staged weights) without
    naming the machine's user, so records from different machines compare cleanly;
    ``os.path.expanduser`` turns the recorded path back into the file. Other paths, and
    None, are returned as given.

    Examples
    --------
    >>> import os
    >>> portable_path(os.path.join(os.path.expanduser("~"), ".cache", "x.npz")) == os.path.join("~", ".cache", "x.npz")
    True
    >>> portable_path("runs/vae.npz"), portable_path(None)
    ('runs/vae.npz', None)
    """
    if path is None:
        return None
    p = os.fspath(path)
    if not isinstance(p, str):
        raise TypeError(f"path must be a str or os.PathLike of str, got {type(path).__name__}")
    home = os.path.expanduser("~")
    if not os.path.isabs(p) or home in ("", "~", os.sep) or not os.path.isabs(home):
        return p
    home = home.rstrip(os.sep)
    if p == home or p.startswith(home + os.sep):
        return "~" + p[len(home):]
    return p


def atomic_write_bytes(path: Union[str, os.PathLike], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file + ``os.replace``).

    The temporary file ``.tmp-XXXXXXXX<name>`` lives in the target's folder; one left
    behind by a killed process is removed by :func:`remove_temp_files`.
    """
    _atomic_write(path, lambda fh: fh.write(data))


def _atomic_write(path: Union[str, os.PathLike], write) -> None:
    """Call ``write(fh)`` on a temporary file next to ``path`` (named as in
    :func:`atomic_write_bytes`), then move it into place."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def writable_folder(folder: Union[str, os.PathLike]) -> Optional[OSError]:
    """Create ``folder`` if needed and check that a file can be written there.

    Returns
    -------
    OSError or None
        None when a file could be created (and removed again), else the error met.
    """
    try:
        os.makedirs(folder, exist_ok=True)
        probe = os.path.join(folder, ".write-test")
        with open(probe, "wb"):
            pass
        os.remove(probe)
    except OSError as exc:
        return exc
    return None


def remove_temp_files(folder: Union[str, os.PathLike], min_age: float = 0.0, recursive: bool = True) -> list:
    """Delete the temporary files a killed :func:`atomic_write_bytes` left in ``folder``.

    Only regular files named as :func:`atomic_write_bytes` names them
    (``.tmp-`` + the writer's process id and ``-`` + 8 characters of ``[a-z0-9_]`` + the
    target's name) are removed, only those last modified at least ``min_age`` seconds ago
    (a folder shared by running processes needs an age), and never one younger than an
    hour whose writer process is still running (on POSIX; elsewhere any file younger than
    an hour is kept). A missing folder is fine.

    Returns
    -------
    list of str
        The paths removed.
    """
    removed = []
    if not os.path.isdir(folder):
        return removed
    now = time.time()
    walk = os.walk(folder) if recursive else [(os.fspath(folder), [], os.listdir(folder))]
    for root, _, names in walk:
        for name in names:
            p = os.path.join(root, name)
            try:
                m = _TEMP_NAME.fullmatch(name)
                if not (m and os.path.isfile(p) and not os.path.islink(p)):
                    continue
                age = now - os.path.getmtime(p)
                if age < min_age or (m.group(1) and age < _LIVE_WRITER_AGE and _writer_running(int(m.group(1)))):
                    continue
                os.unlink(p)
                removed.append(p)
            except OSError:  # vanished meanwhile, or not ours to delete
                continue
    return removed


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"object of type {type(obj).__name__} is not JSON serialisable")


def _finite_json(obj: Any) -> Any:
    """``obj`` with NumPy values converted and every non-finite float replaced by None."""
    if isinstance(obj, dict):
        return {k: _finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_json(v) for v in obj]
    if isinstance(obj, (np.ndarray, np.generic)):
        return _finite_json(obj.tolist())
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def save_json(path: Union[str, os.PathLike], obj: Any) -> None:
    """Write ``obj`` as indented, standard (RFC 8259) JSON, atomically.

    NumPy scalars and arrays are converted; a non-finite float (NaN, ±inf), which
    standard JSON cannot hold, is written as ``null``: a value that could not be
    measured. Callers that must say why record the reason in a key of their own.
    """
    text = json.dumps(_finite_json(obj), indent=2, default=_json_default, sort_keys=False, allow_nan=False)
    atomic_write_bytes(path, (text + "\n").encode("utf-8"))


def load_json(path: Union[str, os.PathLike]) -> Any:
    """Read a JSON file written by :func:`save_json`.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is not UTF-8 JSON (truncated, damaged, another kind); the message names it.
    """
    try:
        with open(path, "r", encoding="utf-8") as fh:
            return json.load(fh)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        why = " ".join(str(exc).split())[:100] or type(exc).__name__
        raise ValueError(f"{os.fspath(path)}: cannot read as JSON ({why}); the file is damaged or "
                         f"of another kind") from None


def save_npz(path: Union[str, os.PathLike], arrays: dict, compressed: bool = False) -> None:
    """Save a dict of arrays to ``.npz`` atomically (no pickled objects allowed).

    The archive is written straight into the temporary file (no in-memory copy of the
    arrays, which at paper scale would double a 0.5 GB replay set).
    """
    for k, v in arrays.items():
        if np.asarray(v).dtype == object:
            raise TypeError(f"array {k!r} has dtype object; refusing to pickle")
    _atomic_write(path, lambda fh: (np.savez_compressed if compressed else np.savez)(fh, **arrays))


def _read_npz(fh) -> dict:
    data = np.load(fh, allow_pickle=False)
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError("it holds a single array (.npy), not an archive of named arrays (.npz)")
    with data:
        return {k: data[k] for k in data.files}


def load_npz(path: Union[str, os.PathLike, Any]) -> dict:
    """Load an ``.npz`` file (path or binary file object) into a dict of arrays.

    Always ``allow_pickle=False``. A path is opened here and closed even when the file
    is corrupt (``np.load`` alone leaks its handle on a truncated zip).

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is not a readable ``.npz`` archive (truncated, corrupted, another
        format, a single ``.npy`` array, or an array that would need pickle); the
        message names the file and what is wrong.
    """
    name = getattr(path, "name", path)
    try:
        if hasattr(path, "read"):
            return _read_npz(path)
        with open(path, "rb") as fh:
            return _read_npz(fh)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as exc:  # any failure to parse the bytes (zip, zlib, .npy header, shape, ...)
        why = (str(exc) or type(exc).__name__).splitlines()[0][:100]
        if "pickle" in why:
            why = "not an .npz archive of plain arrays"
        raise ValueError(f"{os.fspath(name) if isinstance(name, (str, os.PathLike)) else name}: cannot read "
                         f"as .npz ({why}); the file is damaged or of another kind") from None
