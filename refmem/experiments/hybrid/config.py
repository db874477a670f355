"""Configuration of hybrid recall of partly consolidated memories (E16).

=========  ===========================================================================
preset     meaning
=========  ===========================================================================
``quick``  1,000 stored scenes, a half-width VAE (batch 16) consolidated for 12 epochs
           with stages after 1, 4 and 12; 250 tested scenes. The stages are trained
           once into the user cache (about 3 minutes on 2 cores) and reused
``paper``  10,000 stored scenes, the paper's VAE (batch 32), stages after 2, 10 and 50
           epochs (hours; resumable epoch by epoch); 500 tested scenes
``tiny``   seconds, for tests (numbers carry no weight)
=========  ===========================================================================
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

from refmem.datasets.shapes3d import N_IMAGES
from refmem.experiments.common import check_at_most, check_positive_ints

__all__ = ["HybridConfig", "CONFIGS", "validate_config", "TRAINING_FIELDS"]

#: fields that determine the staged VAEs (their cache key)
TRAINING_FIELDS = ("seed", "n_memories", "n_heldout", "supersample", "beta", "normalize", "max_iter",
                   "latent_dim", "vae_widths", "lr", "batch_size", "stages", "probe_train", "probe_test")


@dataclass(frozen=True)
class HybridConfig:
    """All settings of one hybrid-recall run.

    Attributes
    ----------
    seed : int
    n_memories : int
        Scenes stored in the Hopfield network and replayed to train the VAE.
    n_heldout : int
        Held-out scenes for the per-epoch measurement (reconstruction, shape decoding).
    n_test : int
        Stored scenes recalled from corrupted cues (the first ones).
    stages : tuple of int
        Epoch counts at which the consolidating VAE is snapshotted (early, middle, late).
    fractions : tuple of float
        Fractions of cue elements zeroed; the first is the preprint's 0.25.
    recovery_cosine : float
        A recall recovers its scene if their cosine (pattern range) is >= this (0.99).
    min_advantage : float
        E16a: gist-then-Hopfield must beat the VAE alone by this much (recovery rate) at every stage.
    supersample, beta, normalize, max_iter, latent_dim, vae_widths, lr, batch_size
        Renderer, Hopfield network (20, normalised, 10 updates) and VAE.
    probe_train, probe_test : int
        Shape probe of the per-epoch measurement.
    n_examples : int
        Example scenes in the figure.
    """

    seed: int = 0
    n_memories: int = 1000
    n_heldout: int = 400
    n_test: int = 250
    stages: Tuple[int, ...] = (1, 4, 12)
    fractions: Tuple[float, ...] = (0.25, 0.5, 0.75)
    recovery_cosine: float = 0.99
    min_advantage: float = 0.1
    supersample: int = 2
    beta: float = 20.0
    normalize: bool = True
    max_iter: int = 10
    latent_dim: int = 20
    vae_widths: Tuple[int, ...] = (16, 32, 64, 128)
    lr: float = 1e-3
    batch_size: int = 16
    probe_train: int = 200
    probe_test: int = 200
    n_examples: int = 6


def validate_config(cfg: HybridConfig) -> HybridConfig:
    """Check a config's values (``ValueError`` naming the field); return it unchanged."""
    if not isinstance(cfg, HybridConfig):
        raise TypeError(f"expected a HybridConfig, got {type(cfg).__name__}")
    check_positive_ints(cfg, ("n_memories", "n_heldout", "n_test", "supersample", "max_iter", "latent_dim",
                              "batch_size", "probe_train", "probe_test"))
    if cfg.n_test > cfg.n_memories:
        raise ValueError(f"n_test ({cfg.n_test}) must not exceed n_memories ({cfg.n_memories})")
    if cfg.probe_train + cfg.probe_test > cfg.n_heldout:
        raise ValueError("probe_train + probe_test must not exceed n_heldout")
    if not cfg.stages or any(isinstance(e, bool) or not isinstance(e, int) or e < 1 for e in cfg.stages) \
            or list(cfg.stages) != sorted(set(cfg.stages)):
        raise ValueError(f"stages must be increasing epoch counts >= 1, got {list(cfg.stages)}")
    if not cfg.fractions or any(not 0.0 < f < 1.0 for f in cfg.fractions):
        raise ValueError(f"fractions must lie in (0, 1), got {list(cfg.fractions)}")
    if not 0.0 < cfg.recovery_cosine <= 1.0:
        raise ValueError(f"recovery_cosine must lie in (0, 1], got {cfg.recovery_cosine}")
    if not (cfg.beta > 0 and cfg.lr > 0 and 0 <= cfg.min_advantage < 1):
        raise ValueError("beta and lr must be > 0 and min_advantage in [0, 1)")
    if len(cfg.vae_widths) != 4 or min(cfg.vae_widths) < 1:
        raise ValueError(f"vae_widths must be 4 positive integers, got {cfg.vae_widths!r}")
    check_positive_ints(cfg, ("n_examples",))
    check_at_most(cfg, [("n_heldout", N_IMAGES - cfg.n_memories, "the distinct scenes minus n_memories")])
    if cfg.probe_train < 2:
        raise ValueError(f"probe_train must be >= 2 (a decoding probe needs two classes), got {cfg.probe_train}")
    return cfg


CONFIGS = {
    "quick": HybridConfig(),
    "paper": HybridConfig(n_memories=10000, n_heldout=1500, n_test=500, stages=(2, 10, 50),
                          vae_widths=(32, 64, 128, 256), batch_size=32, probe_train=200, probe_test=750),
    "tiny": HybridConfig(n_memories=40, n_heldout=24, n_test=20, stages=(1, 2), supersample=1,
                         vae_widths=(4, 8, 8, 16), batch_size=8, probe_train=12, probe_test=12, n_examples=2),
}
