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

The most used names are available at the top level (``refmem.ModernHopfield``,
``refmem.shapes3d_vae``, ...). They are imported on first use (PEP 562), so
``import refmem`` itself is cheap.
"""
import importlib

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS = {
    "ModernHopfield": "refmem.hopfield",
    "ClassicalHopfield": "refmem.hopfield",
    "mask_cue": "refmem.hopfield",
    "noise_cue": "refmem.hopfield",
    "VAE": "refmem.vae",
    "load_vae": "refmem.vae",
    "shapes3d_vae": "refmem.vae",
    "mnist_vae": "refmem.vae",
    "bow_vae": "refmem.vae",
    "Adam": "refmem.optim",
    "adam_step": "refmem.optim",
    "make_probe": "refmem.probes",
    "SVC": "refmem.probes",
    "LogisticRegression": "refmem.probes",
    "StandardScaler": "refmem.probes",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'refmem' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
