"""Configuration of the novelty experiment (E17): what the hippocampus must store.

=========  ===========================================================================
preset     meaning
=========  ===========================================================================
``quick``  a half-width Shapes3D VAE trained 8 epochs on 1,200 scenes of three shapes,
           and the digits VAE trained 10 epochs on 8 classes of the shipped digits;
           200 test items per set; about 3 minutes on 2 cores
``paper``  the paper's Shapes3D VAE (batch 32) on 7,500 scenes of three shapes for 20
           epochs; the digits VAE as in the preprint (10 epochs); 500 test items per
           set (about an hour)
``tiny``   seconds, for tests (numbers carry no weight)
=========  ===========================================================================
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from refmem.datasets.shapes3d import N_IMAGES
from refmem.experiments.common import check_at_most, check_positive_ints

__all__ = ["NoveltyConfig", "CONFIGS", "validate_config"]


@dataclass(frozen=True)
class NoveltyConfig:
    """All settings of one novelty run.

    Attributes
    ----------
    seed : int
    n_test : int
        Items per test set (familiar held-out items get twice as many, for the
        random-split control).
    shapes_train, shapes_epochs, novel_shape, vae_widths, shapes_batch
        Shapes3D VAE trained on scenes without ``novel_shape`` (3 = capsule); the fourth
        shape is the novel set.
    digits_novel : tuple of int
        Digit classes held out of the digits VAE's training (novel set).
    digits_train : int or None
        Training digits (None = every shipped digit of the trained classes not held out
        for testing).
    digits_epochs, digits_latent, digits_lr, digits_batch
        The digits VAE (preprint: latent 5, lr 0.002, 10 epochs, batch 32).
    digits_recon, digits_kl_weight
        Training loss of the digits VAE. With the paper's ``l1_channel_mean`` and KL
        weight 1 this VAE collapses to a blank output (every digit decoded as black, loss
        = the digit's ink), so the presets train with ``bce`` (mean over pixels) and
        KL weight 1/784 (the same balance per pixel); errors are always measured with
        the paper's L1 metric.
    digits_threshold : float
        Error above which an item needs hippocampal encoding (preprint, MNIST: 100).
    shapes_threshold : float or None
        The same for scenes; None = the ``threshold_quantile`` of the familiar training
        scenes' errors.
    threshold_quantile : float
    trace_threshold : float
        A pixel belongs to the stored sensory trace when its channel-mean prediction
        error exceeds this (the extended model's rule).
    min_fraction_gap, min_auc, alpha
        Criteria: fraction above threshold, novel minus familiar; ROC AUC; significance of
        the trace-size test.
    supersample : int
    """

    seed: int = 0
    n_test: int = 200
    shapes_train: int = 1200
    shapes_epochs: int = 8
    novel_shape: int = 3
    vae_widths: Tuple[int, ...] = (16, 32, 64, 128)
    shapes_batch: int = 16
    digits_novel: Tuple[int, ...] = (8, 9)
    digits_train: Optional[int] = None
    digits_epochs: int = 10
    digits_latent: int = 5
    digits_lr: float = 0.002
    digits_batch: int = 32
    digits_recon: str = "bce"
    digits_kl_weight: float = 1 / 784
    digits_threshold: float = 100.0
    shapes_threshold: Optional[float] = None
    threshold_quantile: float = 0.9
    trace_threshold: float = 0.1
    min_fraction_gap: float = 0.1
    min_auc: float = 0.8
    alpha: float = 0.01
    supersample: int = 2


def validate_config(cfg: NoveltyConfig) -> NoveltyConfig:
    """Check a config's values (``ValueError`` naming the field); return it unchanged."""
    if not isinstance(cfg, NoveltyConfig):
        raise TypeError(f"expected a NoveltyConfig, got {type(cfg).__name__}")
    check_positive_ints(cfg, ("n_test", "shapes_train", "shapes_epochs", "shapes_batch", "digits_epochs",
                              "digits_latent", "digits_batch", "supersample"))
    if cfg.digits_train is not None and (isinstance(cfg.digits_train, bool) or not isinstance(cfg.digits_train, int)
                                         or cfg.digits_train < 1):
        raise ValueError(f"digits_train must be a positive integer or null, got {cfg.digits_train!r}")
    if cfg.n_test < 4:
        raise ValueError(f"n_test must be >= 4, got {cfg.n_test}")
    if cfg.novel_shape not in (0, 1, 2, 3):
        raise ValueError(f"novel_shape must be a shape index 0-3, got {cfg.novel_shape!r}")
    if not cfg.digits_novel or len(set(cfg.digits_novel)) != len(cfg.digits_novel) \
            or any(not 0 <= d <= 9 for d in cfg.digits_novel) or len(cfg.digits_novel) > 8:
        raise ValueError(f"digits_novel must be 1-8 distinct digit classes, got {list(cfg.digits_novel)}")
    if 2 * cfg.n_test + 50 > 500 * (10 - len(cfg.digits_novel)) or cfg.n_test > 500 * len(cfg.digits_novel):
        raise ValueError("n_test is too large for the 5,000 shipped digits")
    if cfg.digits_recon not in ("l1_channel_mean", "bce", "mse") or not cfg.digits_kl_weight >= 0:
        raise ValueError(f"digits_recon must be l1_channel_mean, bce or mse and digits_kl_weight >= 0, got "
                         f"{cfg.digits_recon!r}, {cfg.digits_kl_weight!r}")
    if cfg.shapes_threshold is not None and not cfg.shapes_threshold > 0:
        raise ValueError(f"shapes_threshold must be > 0 or null, got {cfg.shapes_threshold!r}")
    if not (cfg.digits_threshold > 0 and cfg.digits_lr > 0 and 0 < cfg.threshold_quantile < 1
            and cfg.trace_threshold >= 0 and 0 < cfg.alpha < 1 and 0 <= cfg.min_auc <= 1):
        raise ValueError("thresholds, learning rate, quantile, alpha or min_auc out of range")
    if len(cfg.vae_widths) != 4 or min(cfg.vae_widths) < 1:
        raise ValueError(f"vae_widths must be 4 positive integers, got {cfg.vae_widths!r}")
    trained_digits = 500 * (10 - len(cfg.digits_novel)) - 2 * cfg.n_test  # shipped digits left for training
    check_at_most(cfg, [("digits_train", trained_digits, "the shipped digits of the trained classes minus "
                                                         "2 n_test"),
                        ("shapes_train", scene_pool_limit(cfg.n_test), "what the scene pool allows")])
    return cfg


def scene_pool_limit(n_test: int) -> int:
    """Largest ``shapes_train`` whose scene pool (:func:`scene_pool`) fits the distinct scenes."""
    n_fam = int((N_IMAGES - 40) / 1.15 * 3 / 4) - 2 * n_test
    while n_fam > 0 and scene_pool(n_fam, n_test) > N_IMAGES:
        n_fam -= 1
    return max(n_fam, 0)


def scene_pool(shapes_train: int, n_test: int) -> int:
    """Scenes drawn to find ``shapes_train + 2 n_test`` familiar and ``n_test`` novel ones
    (the novel shape is a quarter of the scenes; 15 % margin)."""
    n_fam = shapes_train + 2 * n_test
    return int(np.ceil(max(n_fam * 4 / 3, n_test * 4) * 1.15)) + 40


CONFIGS = {
    "quick": NoveltyConfig(),
    "paper": NoveltyConfig(n_test=500, shapes_train=7500, shapes_epochs=20, vae_widths=(32, 64, 128, 256),
                           shapes_batch=32),
    "tiny": NoveltyConfig(n_test=8, shapes_train=24, shapes_epochs=1, vae_widths=(4, 8, 8, 16), shapes_batch=8,
                          digits_train=64, digits_epochs=1, supersample=1),
}
