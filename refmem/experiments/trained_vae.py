"""The consolidated Shapes3D VAE of a consolidation preset, trained once and shared.

Several experiments (the extended model, boundary extension, Carmichael, hybrid recall,
...) start from the VAE that ``refmem run consolidation --config PRESET --seed S``
trains. :func:`trained_vae` trains it once into the user cache
(``$REFMEM_CACHE_DIR/vae/``, default ``~/.cache/refmem/vae/``) and reuses it, or loads
a VAE file the user names (``--vae``). A damaged cached VAE is rebuilt, and an
unwritable cache folder means training without caching (both with a warning).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
from typing import Callable, Optional

from refmem._errors import UsageError, one_line, warn
from refmem.datasets._cache import ENV_VAR
from refmem._utils import portable_path, writable_folder

__all__ = ["trained_vae", "vae_cache_dir"]


def vae_cache_dir(preset: str, seed: int) -> str:
    """Folder of the cached consolidation run for ``(preset, seed)``.

    ``$REFMEM_CACHE_DIR/vae/consolidation-<preset>-seed<S>-<hash>``, where the hash is
    taken over the preset's full config and the default renderer version (left out for
    version 1, so its folders keep their names), so neither a changed preset nor a changed
    renderer reuses a stale VAE.
    """
    from refmem.datasets._cache import cache_dir
    from refmem.datasets.shapes3d import renderer_key
    from refmem.experiments.consolidation.config import CONFIGS, config_json

    cfg = dataclasses.replace(CONFIGS[preset], seed=int(seed))
    data = {**config_json(cfg), **renderer_key()}
    key = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:10]
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
            raise UsageError(f"--vae {vae_path!r}: no such file")
        return load_vae(vae_path), {"source": f"loaded from {vae_path}", "path": portable_path(vae_path),
                                    "trained": False, "train_s": 0.0}
    from refmem.experiments.consolidation import CONFIGS

    if preset not in CONFIGS:
        raise UsageError(f"vae preset {preset!r} is not a consolidation config; choose from {sorted(CONFIGS)}")
    folder = vae_cache_dir(preset, seed)
    path = os.path.join(folder, "vae.npz")
    if os.path.isfile(path) and os.path.isfile(os.path.join(folder, "results.json")):
        try:
            vae = load_vae(path)
        except ValueError as exc:
            warn(f"the cached VAE is damaged ({exc}); running its consolidation again")
        else:
            say(f"using the consolidated VAE in {path}")
            return vae, {"source": f"consolidation '{preset}' seed {seed} (cached)", "path": portable_path(path),
                         "trained": False, "train_s": 0.0}
    exc = writable_folder(folder)
    if exc is not None:
        warn(f"cannot write to the cache ({one_line(exc)}); training the VAE without caching it "
             f"(set {ENV_VAR} to a writable folder to keep it)")
        with tempfile.TemporaryDirectory(prefix="refmem-vae-") as tmp:
            vae, info = _train(preset, seed, tmp, say, quiet)
        return vae, dict(info, path=None, source=f"consolidation '{preset}' seed {seed} (trained now, not cached)")
    return _train(preset, seed, folder, say, quiet)


def _train(preset: str, seed: int, folder: str, say: Callable[[str], None], quiet: bool):
    """Run the consolidation of ``preset`` into ``folder`` (resuming any earlier run there)."""
    from refmem.experiments.consolidation import CONFIGS, run
    from refmem.neocortex import load_vae

    say(f"no consolidated VAE for '{preset}' seed {seed} yet: running the consolidation into {folder} "
        f"(once; later runs reuse it)")
    t0 = time.perf_counter()
    cfg = dataclasses.replace(CONFIGS[preset], seed=int(seed))
    try:
        run(cfg, folder, resume=True, quiet=quiet, preset=preset)
    except ValueError as exc:  # a damaged checkpoint or config in the cache: start it afresh
        warn(f"cannot continue the cached consolidation in {folder} ({one_line(exc)}); starting it afresh")
        run(cfg, folder, resume=False, quiet=quiet, preset=preset)
    dt = time.perf_counter() - t0
    path = os.path.join(folder, "vae.npz")
    return load_vae(path), {"source": f"consolidation '{preset}' seed {seed} (trained now)", "path": portable_path(path),
                            "trained": True, "train_s": dt}
