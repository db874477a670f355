"""Memory age, hippocampal lesions and the temporal gradient (paper.md E9, a reconstruction).

:mod:`.config` (presets), :mod:`.run` (``run``), :mod:`.criteria` (pass rules and
measures), :mod:`.figures`, :mod:`.report`, :mod:`.cli` (``main``). The model-level
pieces are :mod:`refmem.systems.days` (consolidation over days),
:mod:`refmem.hippocampus.lesion` and :mod:`refmem.systems.recall`. See ``docs/lesion.md``.
"""
from refmem.experiments.lesion.cli import DESCRIPTION, main
from refmem.experiments.lesion.config import CONFIGS, LesionConfig, validate_config


def run(*args, **kwargs):
    """:func:`refmem.experiments.lesion.run.run` (imported on first use)."""
    from refmem.experiments.lesion.run import run as _run

    return _run(*args, **kwargs)


__all__ = ["main", "DESCRIPTION", "CONFIGS", "LesionConfig", "validate_config", "run"]
