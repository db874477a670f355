"""Novelty and what the hippocampus must store (paper.md E17, from the preprint).

:mod:`.config`, :mod:`.run` (``run``), :mod:`.criteria`, :mod:`.figures`, :mod:`.report`,
:mod:`.cli` (``main``). Model-level pieces: :func:`refmem.analysis.stats.roc_auc`,
:func:`refmem.hippocampus.traces.prediction_error`. See ``docs/novelty.md``.
"""
from refmem.experiments.novelty.cli import DESCRIPTION, main
from refmem.experiments.novelty.config import CONFIGS, NoveltyConfig, validate_config


def run(*args, **kwargs):
    """:func:`refmem.experiments.novelty.run.run` (imported on first use)."""
    from refmem.experiments.novelty.run import run as _run

    return _run(*args, **kwargs)


__all__ = ["main", "DESCRIPTION", "CONFIGS", "NoveltyConfig", "validate_config", "run"]
