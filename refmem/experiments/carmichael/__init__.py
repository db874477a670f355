"""The Carmichael effect (paper.md E14).

An ambiguous (blurred) object stored in the extended model together with a *context*
latent in place of its own conceptual code is recalled as the context's shape, while
the unpredictable white square beside it is kept verbatim. Modules: ``config``, ``run``,
``criteria``, ``figures``, ``report``, ``cli``. Equations and procedure:
``docs/carmichael.md``.
"""
from refmem.experiments.carmichael.cli import DESCRIPTION, main
from refmem.experiments.carmichael.config import CONFIGS, CarmichaelConfig
from refmem.experiments.carmichael.criteria import CRITERIA, measures
from refmem.experiments.carmichael.run import make_stimuli, run, square_position

__all__ = ["main", "DESCRIPTION", "CONFIGS", "CarmichaelConfig", "CRITERIA", "measures", "run", "make_stimuli",
           "square_position"]
