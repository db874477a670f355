"""Hippocampus: modern (continuous) and classical Hopfield networks.

* :class:`ModernHopfield` (``modern.py``): the Ramsauer et al. (2020) network as the
  paper applies it: store, update, retrieve (chunked, BLAS speed; kernels in
  ``_kernels.py``), energy, replay from noise.
* :func:`mask_cue`, :func:`noise_cue` (``cues.py``): pattern-completion cues.
* :func:`update_reference`, :func:`energy_reference` (``reference.py``): the update and
  energy written as the equations read (one state, float64), against which the chunked
  kernels are tested.
* :class:`ClassicalHopfield` (``classical.py``): Hebbian +-1 network.
* ``lesion.py``: remove a random fraction of stored memories (hippocampal lesions).

Row convention: stored patterns and states are rows (``X`` ``(N, d)``); Ramsauer et
al.'s column matrix is ``X.T``. Equations and code pointers: ``docs/hippocampus.md``.
"""
from refmem.hippocampus.classical import CAPACITY, ClassicalHopfield
from refmem.hippocampus.cues import mask_cue, noise_cue
from refmem.hippocampus.modern import ModernHopfield
from refmem.hippocampus.reference import energy_reference, update_reference

__all__ = ["ModernHopfield", "ClassicalHopfield", "CAPACITY", "mask_cue", "noise_cue",
           "update_reference", "energy_reference"]
