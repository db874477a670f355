"""Configuration of the extended-model experiment (E12-E13 of the paper catalogue).

The config is a dataclass that round-trips through JSON (:mod:`refmem.config`), so
``refmem run extended --set n_items=20 --set thresholds=[0.02,0.1]`` works.

=========  ===========================================================================
preset     meaning
=========  ===========================================================================
``quick``  the paper's sweep (100 held-out scenes, thresholds 0.01 ... 0.20, beta 100);
           without ``--vae`` it first trains the ``quick`` consolidation VAE
``paper``  the same sweep; without ``--vae`` it first trains the ``paper`` VAE (hours)
``tiny``   8 scenes, for smoke tests and CI (seconds; any VAE, even an untrained one)
=========  ===========================================================================
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

from refmem.datasets.shapes3d import N_IMAGES

__all__ = ["ExtendedConfig", "CONFIGS", "PAPER_THRESHOLDS", "PAPER_SWEEP", "validate_config"]

#: the five encoding thresholds of the paper's sweep (E13)
PAPER_THRESHOLDS: Tuple[float, ...] = (0.01, 0.05, 0.10, 0.15, 0.20)

#: the paper's E13 numbers (read from ``hybrid_model/error_thresholds_shapes3d.pdf``,
#: docs/paper-experiments.md, E13): mean (SEM) over 100 items of the recall SSE and of the per-channel
#: count of elements whose clean-stimulus VAE error exceeds the threshold
PAPER_SWEEP = {
    "thresholds": list(PAPER_THRESHOLDS),
    "sse_mean": [20.4, 115.4, 209.2, 359.4, 530.7],
    "sse_sem": [12.9, 35.4, 55.8, 75.2, 97.6],
    "count_mean": [4693.0, 2168.0, 1299.0, 880.0, 691.0],
    "count_sem": [90.0, 81.0, 53.0, 39.0, 32.0],
    "spearman_sse": 1.0,
    "spearman_count": -1.0,
    "n_items": 100,
}


@dataclass
class ExtendedConfig:
    """Parameters of the extended-model run (docs/paper-experiments.md, E12-E13).

    Attributes
    ----------
    n_items : int
        Number of held-out stimuli stored in the Hopfield network (paper: 100).
    thresholds : tuple of float
        Encoding thresholds of the sweep (paper: 0.01, 0.05, 0.10, 0.15, 0.20).
    figure_thresholds : tuple of float
        Thresholds of the six-stage recall figures (paper: 0.03 low, 0.15 high); the
        E12 low/high criteria are evaluated at the first and last of these.
    n_figure_items : int
        Items shown in each recall figure (at most ``n_items``: a figure shows the items there are).
    beta : float
        Inverse temperature of the modern Hopfield network (paper: 100).
    normalize : bool
        Divide ``beta`` by sqrt(d) (paper: True, so beta_eff = 100 / sqrt(12308) ~ 0.90).
    max_iter : int
        Maximum Hopfield updates per recall (paper: 5).
    cue_fraction : float
        Fraction of the stimulus's elements zeroed to make the recall cue (paper: 0.1).
    combine_tol : float
        A retrieved sensory element is used where ``|s| > combine_tol`` (paper: 0.01,
        ``np.isclose(s, 0, atol=1e-2)``); elsewhere the decoded latent is used.
    image_size : int
        Side of the rendered scenes; must match the VAE's input shape.
    batch_size : int
        Images per VAE forward pass (memory only; results do not depend on it).
    seed : int
        Seed of the named random streams (stimuli, cues).
    vae_preset : str
        ``refmem.experiments.consolidation`` preset trained first when no VAE is given.
    """

    n_items: int = 100
    thresholds: Tuple[float, ...] = PAPER_THRESHOLDS
    figure_thresholds: Tuple[float, ...] = (0.03, 0.15)
    n_figure_items: int = 4
    beta: float = 100.0
    normalize: bool = True
    max_iter: int = 5
    cue_fraction: float = 0.1
    combine_tol: float = 0.01
    image_size: int = 64
    batch_size: int = 50
    seed: int = 0
    vae_preset: str = "quick"


def validate_config(cfg: ExtendedConfig) -> ExtendedConfig:
    """Check a config's values; raise ``ValueError`` naming the bad field.

    Returns the config unchanged so it can be used inline.
    """
    if not isinstance(cfg, ExtendedConfig):
        raise TypeError(f"expected an ExtendedConfig, got {type(cfg).__name__}")
    if cfg.n_items < 1:
        raise ValueError(f"n_items must be >= 1, got {cfg.n_items}")
    for name in ("thresholds", "figure_thresholds"):
        ts = getattr(cfg, name)
        if len(ts) == 0 and name == "thresholds":
            raise ValueError("thresholds must not be empty")
        if any(not (t >= 0.0) or t != t or t == float("inf") for t in ts):
            raise ValueError(f"{name} must be finite and >= 0, got {list(ts)}")
    if not (cfg.beta > 0):
        raise ValueError(f"beta must be > 0, got {cfg.beta}")
    if cfg.max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {cfg.max_iter}")
    if not (0.0 <= cfg.cue_fraction <= 1.0):
        raise ValueError(f"cue_fraction must lie in [0, 1], got {cfg.cue_fraction}")
    if not (cfg.combine_tol >= 0.0):
        raise ValueError(f"combine_tol must be >= 0, got {cfg.combine_tol}")
    if cfg.image_size < 1 or cfg.batch_size < 1 or cfg.n_figure_items < 0:
        raise ValueError("image_size and batch_size must be >= 1 and n_figure_items >= 0")
    if len(set(cfg.thresholds)) < 2:
        raise ValueError(f"thresholds must hold at least two different values (E13 measures a trend over "
                         f"them), got {list(cfg.thresholds)}")
    if cfg.n_items > N_IMAGES:
        raise ValueError(f"n_items must not exceed the {N_IMAGES} distinct scenes, got {cfg.n_items}")
    from refmem.experiments.boundary.config import VAE_PRESETS

    if cfg.vae_preset not in VAE_PRESETS:
        raise ValueError(f"vae preset {cfg.vae_preset!r} (vae_preset) is not a consolidation preset; choose "
                         f"from {', '.join(VAE_PRESETS)}")
    return cfg


CONFIGS = {
    # the paper's sweep (100 items) with the quick consolidation VAE (trained first if
    # no --vae is given); the sweep itself takes about a minute on 2 cores
    "quick": ExtendedConfig(n_items=100, vae_preset="quick"),
    # the same sweep; without --vae it first trains the paper-scale VAE (hours)
    "paper": ExtendedConfig(n_items=100, vae_preset="paper"),
    # seconds: smoke tests and CI (any VAE, even an untrained one)
    "tiny": ExtendedConfig(n_items=8, n_figure_items=2, batch_size=8, vae_preset="tiny"),
}
