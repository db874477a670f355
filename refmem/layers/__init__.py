"""Neocortex building blocks: NHWC layers with explicit forward/backward (manual backprop).

See :mod:`refmem.layers.base` for the protocol every layer follows.
"""
from .base import Layer, Sequential

__all__ = ["Layer", "Sequential"]
