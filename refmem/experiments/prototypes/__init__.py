"""Prototypical distortion on real MNIST digits (paper.md E10).

A generative recall pulls memories towards their class's prototype: through the MNIST
VAE, consolidated from Hopfield replays of half of the shipped digits, the per-pixel
variance within each digit class shrinks. Modules: ``config``, ``run``, ``criteria``,
``figures``, ``report``, ``cli``. Equations and procedure: ``docs/prototypes.md``.
"""
from refmem.experiments.prototypes.cli import DESCRIPTION, main
from refmem.experiments.prototypes.config import CONFIGS, PrototypesConfig
from refmem.experiments.prototypes.criteria import CRITERIA, measures
from refmem.experiments.prototypes.run import run

__all__ = ["main", "DESCRIPTION", "CONFIGS", "PrototypesConfig", "CRITERIA", "measures", "run"]
