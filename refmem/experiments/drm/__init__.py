"""DRM false memory (paper.md E15): a text VAE trained on stories, list episodes stored
in an unnormalised modern Hopfield network, false recall of the critical lure.

Modules: :mod:`~.config` (presets), :mod:`~.corpus` (synthetic or user corpus),
:mod:`~.model` (traces, recall), :mod:`~.measure` (full lists, list length, corpus
statistics), :mod:`~.criteria`, :mod:`~.figures`, :mod:`~.report`, :mod:`~.run`,
:mod:`~.cli`. Equations and procedure: ``docs/drm.md``.
"""
from refmem.experiments.drm.cli import DESCRIPTION, main
from refmem.experiments.drm.config import CONFIGS, PAPER_CURVE, PAPER_FULL_LIST_LURES, CorpusConfig, DRMConfig, validate_config
from refmem.experiments.drm.run import run

__all__ = ["main", "DESCRIPTION", "CONFIGS", "run", "DRMConfig", "CorpusConfig", "PAPER_CURVE",
           "PAPER_FULL_LIST_LURES", "validate_config"]
