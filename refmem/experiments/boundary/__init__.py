"""Boundary extension and contraction (paper.md E11).

Scenes recalled through the consolidated VAE regress towards the typical framing: a
zoomed-in (close-up) view is recalled with a smaller object, a zoomed-out view with a
larger one. Modules: ``config``, ``run``, ``criteria``, ``figures``, ``report``, ``cli``.
Equations and procedure: ``docs/boundary.md``.
"""
from refmem.experiments.boundary.cli import DESCRIPTION, main
from refmem.experiments.boundary.config import CONFIGS, PAPER_MEDIANS, BoundaryConfig
from refmem.experiments.boundary.criteria import CRITERIA, measures
from refmem.experiments.boundary.run import run

__all__ = ["main", "DESCRIPTION", "CONFIGS", "BoundaryConfig", "PAPER_MEDIANS", "CRITERIA", "measures", "run"]
