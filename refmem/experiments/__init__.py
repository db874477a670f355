"""The paper's experiments, one sub-package each, all of the same shape.

Each experiment package holds ``config`` (a dataclass and its presets ``quick``,
``paper``, ...), ``run`` (the experiment end to end), ``criteria`` (its pass rules as
:class:`~refmem.experiments.criteria.Criterion` data, each with a negative control),
``figures``, ``report`` and ``cli`` (``refmem run NAME``). Experiments build on the
model layer (:mod:`refmem.hippocampus`, :mod:`refmem.neocortex`, :mod:`refmem.systems`,
:mod:`refmem.analysis.stats`), never on another experiment's internals.
"""
