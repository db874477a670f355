"""refmem: a pure-NumPy reference implementation of the generative model of memory
construction and consolidation of Spens & Burgess (2024, Nat. Hum. Behav. 8:526-543).

Modules read like the paper:

========================  =====================================================
``refmem.hopfield``       hippocampus: modern (continuous) and classical Hopfield
``refmem.layers``         neocortex building blocks with manual backprop
``refmem.vae``            neocortex: the paper's VAEs, losses, training
``refmem.optim``          Adam / AMSGrad
``refmem.consolidation``  replay -> VAE training, and the analyses of E1-E8
``refmem.extended``       extended model: sensory + conceptual traces (E12-E13)
``refmem.probes``         decoding probes (RBF SVC, logistic regression)
``refmem.analysis``       PCA, neighbour agreement, statistics
``refmem.datasets``       Shapes3D-like renderer, MNIST digits, DRM, transforms
========================  =====================================================

Submodules are imported on demand (``import refmem.hopfield``), so importing
``refmem`` itself is cheap.
"""
__version__ = "0.1.0"

__all__ = ["__version__"]
