"""Configuration of the Carmichael experiment (paper.md E14).

=========  ===========================================================================
preset     meaning
=========  ===========================================================================
``quick``  the paper's 4 stimuli and 2 contexts, the ``quick`` consolidated VAE; the
           shape probe is fitted on 600 rendered scenes (seconds once the VAE is cached)
``paper``  the same with the ``paper`` consolidated VAE and a probe on 1,000 scenes
``tiny``   a probe on 40 scenes, for tests (seconds; any VAE)
=========  ===========================================================================
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

from refmem._utils import check_int
from refmem.datasets.shapes3d import N_IMAGES
from refmem.experiments.boundary.config import VAE_PRESETS

__all__ = ["CarmichaelConfig", "CONFIGS", "validate_config"]


@dataclass(frozen=True)
class CarmichaelConfig:
    """Parameters of the Carmichael experiment.

    Attributes
    ----------
    seed : int
        Seeds the recall cues, the probe's scenes and its split.
    floor_hue, wall_hue, object_hue, scale, orientation : int
        Factor indices of the 4 stimuli (paper: 1, 3, 2, 0, 7), one per shape.
    contexts : tuple of int
        Context shapes (paper: 0 cube and 2 sphere).
    blur_sigma, radius, center : float, float, (float, float)
        Gaussian blur (sd 3) inside the disc of radius 15 at (x = 32, y = 45).
    square_size : int
        Side of the opaque white square (8), placed at a position seeded by the image.
    threshold : float
        Encoding error threshold of the traces (paper: 0.2).
    beta, normalize, max_iter : float, bool, int
        Hopfield network (paper: 5, normalised, <= 5 updates).
    cue_fraction : float
        Fraction of each stimulus's elements zeroed in the recall cue (paper: 0.1).
    combine_tol : float
        Retrieved sensory elements with ``|s| > combine_tol`` are kept (paper: 0.01).
    min_matches : int
        Stimuli (of 4) whose recall must take the context's shape (paper: 3).
    probe_fit, probe_test : int
        Rendered scenes the shape probe (standardised RBF SVC on mu) is fitted and scored on.
    vae_preset : str
        Consolidation preset of the VAE when no ``--vae`` is given.
    """

    seed: int = 0
    floor_hue: int = 1
    wall_hue: int = 3
    object_hue: int = 2
    scale: int = 0
    orientation: int = 7
    contexts: Tuple[int, ...] = (0, 2)
    blur_sigma: float = 3.0
    radius: float = 15.0
    center: Tuple[float, float] = (32.0, 45.0)
    square_size: int = 8
    threshold: float = 0.2
    beta: float = 5.0
    normalize: bool = True
    max_iter: int = 5
    cue_fraction: float = 0.1
    combine_tol: float = 0.01
    min_matches: int = 3
    probe_fit: int = 600
    probe_test: int = 200
    vae_preset: str = "quick"


def validate_config(cfg: CarmichaelConfig) -> CarmichaelConfig:
    """Check the values; raise ``ValueError`` naming the bad field; return ``cfg``."""
    if not isinstance(cfg, CarmichaelConfig):
        raise TypeError(f"expected a CarmichaelConfig, got {type(cfg).__name__}")
    for name, size in (("floor_hue", 10), ("wall_hue", 10), ("object_hue", 10), ("scale", 8), ("orientation", 15)):
        if check_int(getattr(cfg, name), name, minimum=0) >= size:
            raise ValueError(f"{name} must be a factor index in [0, {size}), got {getattr(cfg, name)!r}")
    if len(cfg.contexts) != 2 or len(set(cfg.contexts)) != 2 or any(c not in (0, 1, 2, 3) for c in cfg.contexts):
        raise ValueError(f"contexts must be two different shapes in 0-3, got {list(cfg.contexts)}")
    for name in ("max_iter", "square_size", "probe_fit", "probe_test"):
        check_int(getattr(cfg, name), name, minimum=1)
    if not 1 <= cfg.min_matches <= 4:
        raise ValueError(f"min_matches must lie in [1, 4], got {cfg.min_matches!r}")
    if not (cfg.beta > 0 and cfg.threshold >= 0 and cfg.combine_tol >= 0 and cfg.blur_sigma >= 0
            and cfg.radius >= 0):
        raise ValueError("beta must be > 0; threshold, combine_tol, blur_sigma and radius must be >= 0")
    if not 0.0 <= cfg.cue_fraction <= 1.0:
        raise ValueError(f"cue_fraction must lie in [0, 1], got {cfg.cue_fraction!r}")
    if len(cfg.center) != 2:
        raise ValueError(f"center must be (x, y), got {cfg.center!r}")
    if cfg.probe_fit < 2 or cfg.probe_fit + cfg.probe_test > N_IMAGES:
        raise ValueError(f"probe_fit must be >= 2 (a probe needs two shapes) and probe_fit + probe_test at most "
                         f"the {N_IMAGES} distinct scenes, got {cfg.probe_fit} + {cfg.probe_test}")
    if cfg.square_size > 64:
        raise ValueError(f"square_size must not exceed the 64-pixel image, got {cfg.square_size}")
    if cfg.vae_preset not in VAE_PRESETS:
        raise ValueError(f"vae preset {cfg.vae_preset!r} (vae_preset) is not a consolidation preset; choose "
                         f"from {', '.join(VAE_PRESETS)}")
    return cfg


CONFIGS = {
    "quick": CarmichaelConfig(probe_fit=600, probe_test=200, vae_preset="quick"),
    "paper": CarmichaelConfig(probe_fit=1000, probe_test=500, vae_preset="paper"),
    "tiny": CarmichaelConfig(probe_fit=40, probe_test=20, vae_preset="tiny"),
}
