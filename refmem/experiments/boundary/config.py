"""Configuration of the boundary-extension experiment (paper.md E11).

=========  ===========================================================================
preset     meaning
=========  ===========================================================================
``quick``  150 held-out cubes at the paper's nine zoom levels, the ``quick``
           consolidated VAE (about a minute once the VAE is cached)
``paper``  500 cubes (the paper's number), the ``paper`` consolidated VAE
``tiny``   6 cubes, 3 zoom levels, 2 k-means attempts, for tests (seconds; any VAE)
=========  ===========================================================================
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from refmem._utils import check_int

from refmem.datasets.transforms import MIN_ZOOM_PERCENT, PAPER_ZOOM_LEVELS
from refmem.experiments.consolidation.config import CONFIGS as _CONSOLIDATION

#: distinct Shapes3D cubes whose object hue differs from floor and wall hue: (10 x 9 x 8 +
#: 10 x 9) hue triples x 8 scales x 15 orientations
N_CUBES = (10 * 9 * 8 + 10 * 9) * 8 * 15
#: presets of the consolidated VAE a run can use
VAE_PRESETS = tuple(_CONSOLIDATION)

__all__ = ["BoundaryConfig", "CONFIGS", "validate_config", "PAPER_MEDIANS"]

#: the paper's median size change per zoom level (paper.md E11, read from its boxplot)
PAPER_MEDIANS = {80: 0.158, 85: 0.100, 90: 0.053, 95: 0.044, 100: 0.0, 105: 0.0, 110: -0.040, 115: -0.120,
                 120: -0.153}


@dataclass(frozen=True)
class BoundaryConfig:
    """Parameters of the boundary-extension experiment.

    Attributes
    ----------
    seed : int
        Seeds the scenes, the recall noise and the k-means initialisations.
    n_images : int
        Held-out cubes (paper: 500) whose object hue differs from floor and wall hue.
    zoom_levels : tuple of int
        Zoom in percent (paper: 80, 85, ..., 120); must include 100 and levels on both
        sides of it.
    cue_fraction : float
        Fraction of elements zeroed before recall (paper: 0.1).
    k, attempts, max_iter, eps
        Colour k-means (paper: OpenCV, 5 clusters, 10 attempts, 100 iterations, eps 0.2).
    column, rows
        Middle column and the rows where the object's colour is read (paper: 32, 32-50).
    n_control : int or None
        Images on which the identity control is measured (None = all).
    vae_preset : str
        Consolidation preset of the VAE when no ``--vae`` is given.
    supersample : int
        Renderer anti-aliasing (as the consolidation's scenes: 2).
    """

    seed: int = 0
    n_images: int = 500
    zoom_levels: Tuple[int, ...] = PAPER_ZOOM_LEVELS
    cue_fraction: float = 0.1
    k: int = 5
    attempts: int = 10
    max_iter: int = 100
    eps: float = 0.2
    column: int = 32
    rows: Tuple[int, int] = (32, 50)
    n_control: Optional[int] = None
    vae_preset: str = "quick"
    supersample: int = 2


def validate_config(cfg: BoundaryConfig) -> BoundaryConfig:
    """Check the values; raise ``ValueError`` naming the bad field; return ``cfg``."""
    if not isinstance(cfg, BoundaryConfig):
        raise TypeError(f"expected a BoundaryConfig, got {type(cfg).__name__}")
    for name in ("n_images", "k", "attempts", "max_iter", "supersample"):
        check_int(getattr(cfg, name), name, minimum=1)
    z = list(cfg.zoom_levels)
    if (len(set(z)) != len(z) or 100 not in z or min(z) >= 100 or max(z) <= 100
            or min(z) < MIN_ZOOM_PERCENT):
        raise ValueError(f"zoom_levels must be distinct percentages >= {MIN_ZOOM_PERCENT:g} including 100 and "
                         f"levels on both sides of it, got {z}")
    if cfg.n_images > N_CUBES:
        raise ValueError(f"n_images must not exceed the {N_CUBES} distinct cubes whose object hue differs from "
                         f"floor and wall, got {cfg.n_images}")
    if cfg.k > 64 * 64:
        raise ValueError(f"k must not exceed the 4096 pixels of an image, got {cfg.k}")
    if not 0.0 <= cfg.cue_fraction <= 1.0:
        raise ValueError(f"cue_fraction must lie in [0, 1], got {cfg.cue_fraction!r}")
    if not cfg.eps >= 0:
        raise ValueError(f"eps must be >= 0, got {cfg.eps!r}")
    if len(cfg.rows) != 2 or not 0 <= cfg.rows[0] <= cfg.rows[1] < 64 or not 0 <= cfg.column < 64:
        raise ValueError(f"rows must be (first, last) inside the 64-pixel image and column in [0, 64), "
                         f"got rows={cfg.rows!r}, column={cfg.column!r}")
    if cfg.n_control is not None and not 1 <= cfg.n_control <= cfg.n_images:
        raise ValueError(f"n_control must be a positive integer up to n_images ({cfg.n_images}) or null, "
                         f"got {cfg.n_control!r}")
    if cfg.vae_preset not in VAE_PRESETS:
        raise ValueError(f"vae preset {cfg.vae_preset!r} (vae_preset) is not a consolidation preset; choose "
                         f"from {', '.join(VAE_PRESETS)}")
    return cfg


CONFIGS = {
    "quick": BoundaryConfig(n_images=150, n_control=100, vae_preset="quick"),
    "paper": BoundaryConfig(n_images=500, n_control=100, vae_preset="paper"),
    "tiny": BoundaryConfig(n_images=6, zoom_levels=(80, 100, 120), attempts=2, vae_preset="tiny"),
}
