"""Hybrid recall of partly consolidated memories (paper.md E16, from the preprint).

:mod:`.config`, :mod:`.run` (``run``, staged VAEs), :mod:`.criteria`, :mod:`.figures`,
:mod:`.report`, :mod:`.cli` (``main``). Model-level pieces: :mod:`refmem.systems.recall`
(``gist_then_hopfield``) and :class:`refmem.neocortex.training.Snapshots`. See
``docs/hybrid.md``.
"""
from refmem.experiments.hybrid.cli import DESCRIPTION, main
from refmem.experiments.hybrid.config import CONFIGS, HybridConfig, validate_config


def run(*args, **kwargs):
    """:func:`refmem.experiments.hybrid.run.run` (imported on first use)."""
    from refmem.experiments.hybrid.run import run as _run

    return _run(*args, **kwargs)


__all__ = ["main", "DESCRIPTION", "CONFIGS", "HybridConfig", "validate_config", "run"]
