"""Neocortex building blocks: NHWC layers with explicit forward/backward (manual backprop).

See :mod:`refmem.nn.layers.base` for the protocol every layer follows and
``docs/layers.md`` for the equations (each with a pointer to its code).
"""
from refmem.nn.layers.activations import LeakyReLU, ReLU, Sigmoid
from refmem.nn.layers.base import Layer, Sequential
from refmem.nn.layers.conv import Conv2D, conv2d_backward, conv2d_forward
from refmem.nn.layers.conv_reference import conv2d_naive, conv2d_transpose_naive, conv_transpose_naive
from refmem.nn.layers.conv_transpose import Conv2DTranspose, conv2d_transpose_backward, conv2d_transpose_forward
from refmem.nn.layers.dense import Dense
from refmem.nn.layers.dropout import Dropout
from refmem.nn.layers.initializers import glorot_uniform
from refmem.nn.layers.norm import BatchNorm
from refmem.nn.layers.padding import conv_output_length, conv_transpose_output_length, same_padding
from refmem.nn.layers.pooling import Flatten, GlobalAveragePooling2D, Reshape, UpSampling2D
from refmem.nn.layers.transposed import conv_transpose
from refmem.nn.layers.upsample_conv import UpsampleConv2D

__all__ = [
    "Layer", "Sequential",
    "Dense", "Conv2D", "Conv2DTranspose", "UpsampleConv2D",
    "UpSampling2D", "GlobalAveragePooling2D", "Flatten", "Reshape",
    "BatchNorm", "LeakyReLU", "ReLU", "Sigmoid", "Dropout",
    "conv2d_naive", "conv2d_transpose_naive", "conv_transpose_naive", "conv_transpose",
    "conv2d_forward", "conv2d_backward", "conv2d_transpose_forward", "conv2d_transpose_backward",
    "conv_output_length", "conv_transpose_output_length", "same_padding", "glorot_uniform",
]
