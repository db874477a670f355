"""Configuration of the prototype experiment (paper.md E10): one frozen dataclass, presets.

=========  ===========================================================================
preset     meaning
=========  ===========================================================================
``quick``  the MNIST VAE consolidated from replays of 2,500 digits (250 per class) for
           20 epochs; measured on the other 2,500
``paper``  the same split, trained up to 50 epochs with early stopping (the paper's
           training settings)
``tiny``   20 digits per class, 1 epoch, for tests (seconds)
=========  ===========================================================================
"""
from __future__ import annotations

from dataclasses import dataclass

from refmem._utils import check_int

__all__ = ["PrototypesConfig", "CONFIGS", "validate_config", "MEASURE_SETS"]

#: the digit sets the statistics are computed on
MEASURE_SETS = ("heldout", "trained", "all")


@dataclass(frozen=True)
class PrototypesConfig:
    """Parameters of the prototype experiment.

    Attributes
    ----------
    seed : int
        Seeds the split, the VAE's initialisation, replay and minibatches.
    n_per_class : int
        Shipped digits used per class (at most 500); half of each class (rounded down)
        is stored and replayed, the other half only measured.
    beta, normalize, max_replay_iter
        Hopfield network and replay of the basic model (paper.md 1.3: 20, True, 10).
    epochs, batch_size, lr, patience
        VAE training on the replays (paper.md 1.6: up to 50, 32, 1e-3 AMSGrad, 3).
    latent_dim : int
        The MNIST VAE's latent size (paper: 20).
    train_loss : {"bce", "l1"}
        Reconstruction term while training on the replays. ``l1`` is the paper's coded
        loss (sum over pixels of |x - x_hat|), with which this VAE falls into the
        all-black image and stays there (see ``docs/prototypes.md``); ``bce`` (default)
        is the summed binary cross-entropy, the usual MNIST VAE loss. Either way KL
        weight 1 per image.
    measure_on : {"auto", "heldout", "trained", "all"}
        Set the criteria are evaluated on; ``auto`` = the held-out half when the VAE is
        trained here, all digits when one is given with ``--vae``.
    n_examples : int
        Digits per class in the input/recall figure.
    """

    seed: int = 0
    n_per_class: int = 500
    beta: float = 20.0
    normalize: bool = True
    max_replay_iter: int = 10
    epochs: int = 20
    batch_size: int = 32
    lr: float = 1e-3
    patience: int = 3
    latent_dim: int = 20
    train_loss: str = "bce"
    measure_on: str = "auto"
    n_examples: int = 6


def validate_config(cfg: PrototypesConfig) -> PrototypesConfig:
    """Check the values; raise ``ValueError`` naming the bad field; return ``cfg``."""
    if not isinstance(cfg, PrototypesConfig):
        raise TypeError(f"expected a PrototypesConfig, got {type(cfg).__name__}")
    for name in ("max_replay_iter", "batch_size", "latent_dim", "n_examples"):
        check_int(getattr(cfg, name), name, minimum=1)
    check_int(cfg.epochs, "epochs", minimum=0)
    if not isinstance(cfg.n_per_class, int) or not 4 <= cfg.n_per_class <= 500:
        raise ValueError(f"n_per_class must be an integer in [4, 500] (shipped digits per class), "
                         f"got {cfg.n_per_class!r}")
    if not (cfg.beta > 0 and cfg.lr > 0):
        raise ValueError(f"beta and lr must be > 0, got beta={cfg.beta!r}, lr={cfg.lr!r}")
    if cfg.train_loss not in ("bce", "l1"):
        raise ValueError(f"train_loss must be 'bce' or 'l1', got {cfg.train_loss!r}")
    if cfg.measure_on not in ("auto",) + MEASURE_SETS:
        raise ValueError(f"measure_on must be one of auto, {', '.join(MEASURE_SETS)}; got {cfg.measure_on!r}")
    return cfg


CONFIGS = {
    "quick": PrototypesConfig(epochs=20),
    "paper": PrototypesConfig(epochs=50),
    "tiny": PrototypesConfig(n_per_class=20, epochs=1, batch_size=16, n_examples=3),
}
