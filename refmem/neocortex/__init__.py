"""Neocortex: the generative network that consolidation trains (a VAE).

========================  ==========================================================
``vae``                   :class:`VAE`: Gaussian encoder, decoder, the loss as run
``encoder``               :class:`GaussianEncoder` (shared trunk, mu and log-variance heads)
``architectures``         the paper's three VAEs; :func:`load_vae`
``training``              ``train_epoch``, ``fit`` (callbacks, Keras early stopping)
``recall``                ``encode_mu``, ``decode``, ``reconstruct`` in batches
========================  ==========================================================
"""
from refmem.neocortex.architectures import ARCHITECTURES, bow_vae, load_vae, mnist_vae, shapes3d_vae
from refmem.neocortex.encoder import GaussianEncoder
from refmem.neocortex.recall import decode, encode_mu, reconstruct
from refmem.neocortex.training import Callback, EarlyStopping, fit, train_epoch
from refmem.neocortex.vae import VAE

__all__ = ["VAE", "GaussianEncoder", "shapes3d_vae", "mnist_vae", "bow_vae", "ARCHITECTURES", "load_vae",
           "train_epoch", "fit", "Callback", "EarlyStopping", "encode_mu", "decode", "reconstruct"]
