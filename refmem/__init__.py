"""refmem: a pure-NumPy reference implementation of the generative model of memory
construction and consolidation of Spens & Burgess (2024, Nat. Hum. Behav. 8:526-543).

The package reads like the model:

==========================  ===========================================================
``refmem.hippocampus``      modern (continuous) and classical Hopfield networks, cues,
                            replay from noise, the extended model's traces
``refmem.nn``               generic manual-backprop toolkit: layers, losses, optimisers,
                            gradient checks
``refmem.neocortex``        the VAE, the paper's three architectures, training, recall
``refmem.systems``          hippocampus + neocortex together: the consolidation process,
                            the extended model
``refmem.analysis``         decoding probes, statistics, error metrics
``refmem.experiments``      one package per experiment of the paper, all of one shape
``refmem.datasets``         Shapes3D-like renderer, MNIST digits, DRM lists and corpus,
                            stimulus transforms
==========================  ===========================================================

The most used names are available at the top level (``refmem.ModernHopfield``,
``refmem.shapes3d_vae``, ...). They are imported on first use (PEP 562), so
``import refmem`` itself is cheap.
"""
import importlib

from refmem._deprecated import install as _install_aliases

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS = {
    "ModernHopfield": "refmem.hippocampus",
    "ClassicalHopfield": "refmem.hippocampus",
    "mask_cue": "refmem.hippocampus",
    "noise_cue": "refmem.hippocampus",
    "VAE": "refmem.neocortex",
    "load_vae": "refmem.neocortex",
    "shapes3d_vae": "refmem.neocortex",
    "mnist_vae": "refmem.neocortex",
    "bow_vae": "refmem.neocortex",
    "Adam": "refmem.nn.optim",
    "adam_step": "refmem.nn.optim",
    "make_probe": "refmem.analysis.probes",
    "SVC": "refmem.analysis.probes",
    "LogisticRegression": "refmem.analysis.probes",
    "StandardScaler": "refmem.analysis.probes",
}

__all__ = ["__version__", *_EXPORTS]


_install_aliases()


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'refmem' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
