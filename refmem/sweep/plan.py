"""The runs of a sweep: one per (experiment, preset, seed, overrides), and their state on disk.

A sweep names experiments (keys of :data:`refmem.cli.EXPERIMENTS`), presets, seeds and
``--set`` overrides; :func:`plan` expands them into :class:`Run` objects. Each run
writes into its own folder ``OUT/<experiment>-<preset>-seed<S>`` (plus ``-<hash>`` of its
overrides when it has some), exactly what ``refmem run`` writes there, plus the log
``run.log``.

Runs that start from the consolidated Shapes3D VAE (an experiment whose config has a
``vae_preset`` field and whose command line takes ``--vae``) depend on the consolidation
run of that preset and seed: :func:`plan` adds that run (role ``"vae"`` when it was not
asked for) and the dependants receive its ``vae.npz`` with ``--vae``, so the VAE of a
(preset, seed) is trained once per sweep, in the sweep's own folder (which a cluster's
workers share).
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import importlib
import io
import json
import os
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from refmem.config import apply_overrides, config_from_dict, config_to_dict, is_saved_config

__all__ = ["SweepError", "Run", "parse_seeds", "parse_presets", "plan", "run_state", "finished_results",
           "LOG_NAME", "VAE_PROVIDER"]

#: the per-run log file (the experiment's output and, on failure, its traceback)
LOG_NAME = "run.log"
#: the experiment whose run provides the shared VAE of dependants
VAE_PROVIDER = "consolidation"


class SweepError(ValueError):
    """A sweep's arguments are invalid (the message is one line for the user)."""


@dataclasses.dataclass(frozen=True)
class Run:
    """One run of a sweep.

    Attributes
    ----------
    name : str
        Folder name, ``<experiment>-<preset>-seed<S>[-<hash of overrides>]``.
    experiment, module : str
        Registry name and the module whose ``main(argv)`` runs it.
    preset : str
    seed : int
    overrides : tuple of str
        ``key=value`` items given to ``--set``.
    out : str
        Absolute path of the run folder.
    config : dict
        The run's resolved config as JSON (what its ``results.json`` records).
    role : {"requested", "vae"}
        ``"vae"``: added only to train the VAE that requested runs share.
    needs : str or None
        Name of the run whose ``vae.npz`` this run loads with ``--vae``.
    supports_resume : bool
        The experiment's command line has ``--resume``.
    """

    name: str
    experiment: str
    module: str
    preset: str
    seed: int
    overrides: Tuple[str, ...]
    out: str
    config: Dict[str, Any] = dataclasses.field(compare=False, repr=False)
    role: str = "requested"
    needs: Optional[str] = None
    supports_resume: bool = False

    def argv(self, resume: bool = False, vae_path: Optional[str] = None) -> List[str]:
        """The experiment's command line for this run (``refmem run NAME`` without the name)."""
        args = ["--config", self.preset, "--seed", str(self.seed), "--out", self.out]
        for item in self.overrides:
            args += ["--set", item]
        if vae_path is not None:
            args += ["--vae", vae_path]
        return args + (["--resume"] if resume else [])


_SEEDS = re.compile(r"^(\d+)(?:-(\d+))?$")


def parse_seeds(text: str) -> List[int]:
    """Seeds from ``"0-4"``, ``"3"``, ``"0,2,7"`` or ``"0-2,5"`` (sorted, without repeats).

    Examples
    --------
    >>> parse_seeds("0-2,5")
    [0, 1, 2, 5]
    >>> parse_seeds("3-1")
    Traceback (most recent call last):
        ...
    refmem.sweep.plan.SweepError: bad seed range '3-1': the end is below the start
    """
    if not isinstance(text, str):
        raise TypeError(f"seeds must be given as text like '0-4', got {type(text).__name__}")
    seeds = set()
    for part in text.split(","):
        m = _SEEDS.match(part.strip())
        if m is None:
            raise SweepError(f"bad seeds {text!r}: expected N, A-B or a comma list of those (e.g. 0-4)")
        lo = int(m.group(1))
        hi = lo if m.group(2) is None else int(m.group(2))
        if hi < lo:
            raise SweepError(f"bad seed range {part.strip()!r}: the end is below the start")
        if hi - lo >= 10_000:
            raise SweepError(f"seed range {part.strip()!r} has {hi - lo + 1} seeds; at most 10000")
        seeds.update(range(lo, hi + 1))
    return sorted(seeds)


def parse_presets(text: str) -> List[str]:
    """Presets from ``"quick"`` or ``"tiny,quick"`` (in the order given, without repeats)."""
    names = [p.strip() for p in str(text).split(",")]
    if not all(names):
        raise SweepError(f"bad --config {text!r}: expected preset names separated by commas")
    return list(dict.fromkeys(names))


@functools.lru_cache(maxsize=None)
def _flags(module: str) -> Tuple[bool, bool]:
    """``(has --resume, has --vae)`` from the experiment's own ``--help``."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        try:
            importlib.import_module(module).main(["--help"])
        except SystemExit:
            pass
    text = buf.getvalue()
    return "--resume" in text, "--vae" in text


def _split_overrides(items: Sequence[str], experiments: Sequence[str]) -> List[Tuple[Optional[str], str]]:
    out = []
    for item in items:
        if "=" not in item:
            raise SweepError(f"--set {item!r} must look like key=value or EXPERIMENT:key=value")
        key = item.split("=", 1)[0]
        scope = None
        if ":" in key:
            scope, item = item.split(":", 1)
            if scope not in experiments:
                raise SweepError(f"--set {scope}:...: {scope!r} is not an experiment of this sweep "
                                 f"({', '.join(experiments)})")
        if item.split("=", 1)[0].strip() == "seed":
            raise SweepError("--set seed=...: give the seeds with --seeds")
        out.append((scope, item))
    return out


def _overrides_for(experiment: str, cfg: Any, items: Sequence[Tuple[Optional[str], str]]) -> Tuple[str, ...]:
    fields = {f.name for f in dataclasses.fields(cfg)}
    return tuple(item for scope, item in items
                 if scope == experiment or (scope is None and item.split("=", 1)[0].split(".")[0].strip() in fields))


def _name(experiment: str, preset: str, seed: int, overrides: Sequence[str]) -> str:
    name = f"{experiment}-{preset}-seed{seed}"
    if overrides:
        name += "-" + hashlib.sha256(json.dumps(list(overrides)).encode()).hexdigest()[:8]
    return name


def _make_run(registry: Mapping[str, str], out: str, experiment: str, preset: str, seed: int,
              overrides: Tuple[str, ...], role: str = "requested") -> Tuple[Run, Any]:
    module = importlib.import_module(registry[experiment])
    if preset not in module.CONFIGS:
        raise SweepError(f"experiment {experiment!r} has no preset {preset!r}; it has {', '.join(module.CONFIGS)}")
    try:
        cfg = apply_overrides(module.CONFIGS[preset], overrides)
    except (ValueError, TypeError) as exc:
        raise SweepError(f"{experiment}: {exc}") from None
    cfg = dataclasses.replace(cfg, seed=int(seed))
    name = _name(experiment, preset, seed, overrides)
    resume, _ = _flags(registry[experiment])
    config = json.loads(json.dumps(config_to_dict(cfg)))
    return Run(name, experiment, registry[experiment], preset, int(seed), tuple(overrides),
               os.path.join(out, name), config, role, None, resume), cfg


def plan(experiments: Sequence[str], presets: Sequence[str], seeds: Sequence[int], overrides: Sequence[str],
         out: str, registry: Optional[Mapping[str, str]] = None) -> List[Run]:
    """Expand a sweep into its runs, the shared-VAE runs first.

    Parameters
    ----------
    experiments : sequence of str
        Registry names (``consolidation``, ``extended``, ...).
    presets : sequence of str
        Presets every experiment must have.
    seeds : sequence of int
    overrides : sequence of str
        ``key=value`` (applied to every experiment whose config has the field; at least
        one must) or ``EXPERIMENT:key=value`` (that experiment only).
    out : str
        The sweep folder.
    registry : mapping str -> str, optional
        Experiment name -> module; default :data:`refmem.cli.EXPERIMENTS`.

    Returns
    -------
    list of Run

    Raises
    ------
    SweepError
        Unknown experiment or preset, a malformed or unknown override, an empty sweep,
        or a folder that holds a finished run of another config.
    """
    if registry is None:
        from refmem.cli import EXPERIMENTS as registry
    experiments = list(dict.fromkeys(experiments))
    if not experiments or not presets or not seeds:
        raise SweepError("a sweep needs at least one experiment, one preset and one seed")
    for e in experiments:
        if e not in registry:
            raise SweepError(f"unknown experiment {e!r}; choose from {', '.join(sorted(registry))}")
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise SweepError(f"seeds must be non-negative integers, got {list(seeds)!r}")
    items = _split_overrides(overrides, experiments)
    out = os.path.abspath(out)
    used = set()
    requested, providers = [], {}
    for e in experiments:
        base = importlib.import_module(registry[e]).CONFIGS
        for preset in presets:
            if preset not in base:
                raise SweepError(f"experiment {e!r} has no preset {preset!r}; it has {', '.join(base)}")
            ov = _overrides_for(e, base[preset], items)
            used.update(ov)
            for seed in seeds:
                run, cfg = _make_run(registry, out, e, preset, seed, ov)
                vae_preset = getattr(cfg, "vae_preset", "")
                if e != VAE_PROVIDER and vae_preset and _flags(registry[e])[1] and VAE_PROVIDER in registry:
                    key = (vae_preset, int(seed))
                    if key not in providers:
                        try:
                            providers[key] = _make_run(registry, out, VAE_PROVIDER, vae_preset, seed, (), "vae")[0]
                        except SweepError as exc:
                            raise SweepError(f"{e}: vae_preset {vae_preset!r}: {exc}") from None
                    run = dataclasses.replace(run, needs=providers[key].name)
                requested.append(run)
    unused = [item for _, item in items if item not in used]
    if unused:
        raise SweepError(f"--set {unused[0]}: no experiment of this sweep has that config field")
    names = {r.name for r in requested}
    runs = [p for p in providers.values() if p.name not in names] + requested
    provider_names = {p.name for p in providers.values()}
    runs.sort(key=lambda r: r.name not in provider_names)  # the shared-VAE runs first (stable sort)
    for r in runs:
        run_state(r)  # refuse folders that hold another run
    return runs


def finished_results(out: str) -> Optional[Dict[str, Any]]:
    """The run's ``results.json`` if it is complete (parses, has its criteria rows), else None."""
    path = os.path.join(out, "results.json")
    try:
        with open(path) as fh:
            res = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(res, dict):
        return None
    rows = res.get("criteria", res.get("effects"))
    return res if isinstance(rows, list) else None


def _same_config(run: Run, recorded: Any) -> bool:
    """Whether a run folder's recorded config is ``run.config`` (fields the record lacks,
    added to the experiment's config after the run, count as their defaults:
    :func:`refmem.config.is_saved_config`)."""
    if recorded == run.config:
        return True
    base = getattr(importlib.import_module(run.module), "CONFIGS", {}).get(run.preset)
    if base is None:
        return False
    return is_saved_config(recorded, config_from_dict(type(base), run.config))


def run_state(run: Run) -> str:
    """``"finished"``, ``"interrupted"`` (folder without complete results) or ``"new"``.

    Raises
    ------
    SweepError
        The folder holds finished results of another config (fields missing from its
        record count as their defaults).
    """
    res = finished_results(run.out)
    if res is not None:
        if not _same_config(run, res.get("config")):
            raise SweepError(f"{run.out} holds a finished run of another config; remove it or use another --out")
        return "finished"
    if os.path.isdir(run.out) and os.listdir(run.out):
        return "interrupted"
    return "new"
