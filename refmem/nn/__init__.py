"""Generic manual-backprop toolkit: layers, losses, optimisers and gradient checks.

========================  ==========================================================
``layers``                forward/backward pairs with thin classes (Dense, Conv2D, ...)
``losses``                reconstruction losses, KL divergence, reparameterisation
``optim``                 Adam / AMSGrad (the Keras variant)
``gradcheck``             central-difference and random-direction gradient checks
========================  ==========================================================

Nothing here knows about memory: the model is built from these pieces in
:mod:`refmem.neocortex`.
"""
from refmem.nn.optim import Adam, adam_step

__all__ = ["Adam", "adam_step"]
