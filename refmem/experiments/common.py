"""What every experiment shares: command-line arguments, the trained VAE of a preset, versions.

* :func:`add_arguments` / :func:`resolve_config`: the flags every ``refmem run NAME``
  has (``--config --seed --out --set --quiet``, optionally ``--vae`` and ``--resume``)
  and the config they select.
* :func:`trained_vae`: the consolidated Shapes3D VAE for a consolidation preset and
  seed. It is the VAE that ``refmem run consolidation --config PRESET --seed S``
  trains; it is trained once into the user cache and reused by every experiment that
  needs it (or loaded from a file the user names with ``--vae``).
* :func:`versions`: Python, NumPy, SciPy, refmem and the BLAS thread count, for
  ``results.json``.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import platform
import time
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import numpy as np

from refmem.config import apply_overrides, config_to_dict

__all__ = ["add_arguments", "resolve_config", "trained_vae", "vae_cache_dir", "versions"]


def add_arguments(p: argparse.ArgumentParser, configs: Mapping[str, Any], name: str, *,
                  vae: bool = False, resume: bool = False) -> argparse.ArgumentParser:
    """Add the common flags of ``refmem run NAME`` to ``p`` (returned)."""
    p.add_argument("--config", choices=sorted(configs), default=None,
                   help="preset (default: quick)")
    p.add_argument("--seed", type=int, default=None, help="seed of every random stream (default: the preset's)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"output folder (default runs/{name}-<config>-seed<S>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field (repeatable); fields: "
                        + ", ".join(f.name for f in dataclasses.fields(configs["quick"])))
    p.add_argument("--quiet", action="store_true", help="no progress output")
    if vae:
        p.add_argument("--vae", default=None, metavar="FILE",
                       help="a saved refmem VAE (.npz) to use instead of the consolidated one")
    if resume:
        p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    return p


def resolve_config(args: argparse.Namespace, configs: Mapping[str, Any], name: str) -> Tuple[Any, str, str]:
    """``(config, out_dir, preset label)`` selected by parsed arguments.

    Raises
    ------
    ValueError
        An override names an unknown field or has a value of the wrong type.
    """
    preset = args.config or "quick"
    cfg = apply_overrides(configs[preset], args.overrides)
    if args.seed is not None:
        cfg = dataclasses.replace(cfg, seed=int(args.seed))
    out = args.out or os.path.join("runs", f"{name}-{preset}-seed{cfg.seed}")
    return cfg, out, preset if not args.overrides else f"{preset} (modified)"


def vae_cache_dir(preset: str, seed: int) -> str:
    """Folder of the cached consolidation run for ``(preset, seed)``.

    ``$REFMEM_CACHE_DIR/vae/consolidation-<preset>-seed<S>-<hash>``, where the hash is
    taken over the preset's full config, so a changed preset never reuses a stale VAE.
    """
    from refmem.datasets._cache import cache_dir
    from refmem.experiments.consolidation.config import CONFIGS, config_json

    cfg = dataclasses.replace(CONFIGS[preset], seed=int(seed))
    key = hashlib.sha256(json.dumps(config_json(cfg), sort_keys=True).encode()).hexdigest()[:10]
    return cache_dir(os.path.join("vae", f"consolidation-{preset}-seed{int(seed)}-{key}"))


def trained_vae(preset: str = "quick", seed: int = 0, vae_path: Optional[str] = None,
                say: Callable[[str], None] = print, quiet: bool = False):
    """The consolidated Shapes3D VAE of a consolidation preset, and where it came from.

    Parameters
    ----------
    preset : str
        A consolidation preset (``quick``, ``paper``, ``tiny``).
    seed : int
        The consolidation run's seed.
    vae_path : str, optional
        Load this saved VAE instead (nothing is trained).
    say : callable(str)
        Progress lines.
    quiet : bool
        No progress output from a consolidation run.

    Returns
    -------
    vae : refmem.neocortex.VAE
    info : dict
        ``source`` (text), ``path``, ``trained`` (bool), ``train_s`` (seconds).
    """
    from refmem.neocortex import load_vae

    if vae_path is not None:
        if not os.path.isfile(vae_path):
            raise ValueError(f"--vae {vae_path!r}: no such file")
        return load_vae(vae_path), {"source": f"loaded from {vae_path}", "path": os.fspath(vae_path),
                                    "trained": False, "train_s": 0.0}
    from refmem.experiments.consolidation import CONFIGS, run

    if preset not in CONFIGS:
        raise ValueError(f"vae preset {preset!r} is not a consolidation config; choose from {sorted(CONFIGS)}")
    folder = vae_cache_dir(preset, seed)
    path = os.path.join(folder, "vae.npz")
    if os.path.isfile(path) and os.path.isfile(os.path.join(folder, "results.json")):
        say(f"using the consolidated VAE in {path}")
        return load_vae(path), {"source": f"consolidation '{preset}' seed {seed} (cached)", "path": path,
                                "trained": False, "train_s": 0.0}
    say(f"no consolidated VAE for '{preset}' seed {seed} yet: running the consolidation into {folder} "
        f"(once; later runs reuse it)")
    t0 = time.perf_counter()
    run(dataclasses.replace(CONFIGS[preset], seed=int(seed)), folder, resume=True, quiet=quiet, preset=preset)
    dt = time.perf_counter() - t0
    return load_vae(path), {"source": f"consolidation '{preset}' seed {seed} (trained now)", "path": path,
                            "trained": True, "train_s": dt}


def versions() -> Dict[str, object]:
    """Versions of Python, NumPy, SciPy and refmem, and the BLAS thread setting."""
    import scipy

    from refmem import __version__

    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "refmem": __version__, "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS")
            or os.environ.get("OMP_NUM_THREADS") or "default"}
