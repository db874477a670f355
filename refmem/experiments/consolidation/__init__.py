"""Systems consolidation (docs/paper-experiments.md, E1-E8): hippocampal replay trains a neocortical VAE.

A modern Hopfield network stores rendered scenes and replays them from noise; the
replays train the Shapes3D VAE; held-out scenes measure reconstruction and semantic
decoding at every epoch; after training the analyses E2 and E4-E8 each yield a number
and a pass/fail line in the report. See ``docs/consolidation.md``.

Modules:

================  ==============================================================
``config``        :class:`ConsolidationConfig`, presets :data:`CONFIGS`
``replay``        hippocampal encoding, replay, replay statistics (E1)
``training``      epoch loop: measurement, early stopping, checkpoints, resume (E3)
``measure``       held-out reconstruction error, decoding accuracy (docs/paper-experiments.md, 1.5, 1.9)
``analyses``      E2 recall, E4 latent structure, E5 interpolation
``relational``    E6 latent arithmetic
``imagination``   E7 class-conditioned prior sampling
``fewshot``       E8 few-shot learning per representation
``figures``       PNG figures;  ``report``: results.json / report.md
``simulation``    :func:`run` (all of the above);  ``cli``: :func:`main`
================  ==============================================================
"""
from refmem.experiments.consolidation.cli import DESCRIPTION, main
from refmem.experiments.consolidation.config import CONFIGS, ConsolidationConfig, get_config
from refmem.experiments.consolidation.run import run

__all__ = ["main", "DESCRIPTION", "CONFIGS", "run", "ConsolidationConfig", "get_config"]
