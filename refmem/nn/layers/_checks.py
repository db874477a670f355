"""Small validation helpers shared by the layers (upstream gradients, constructor args)."""
from __future__ import annotations

from typing import Tuple

import numpy as np

from refmem._utils import check_real

__all__ = ["check_dy", "check_shape_arg", "check_rate", "check_conv_inputs"]


def check_dy(layer, dy: np.ndarray, batch: int) -> np.ndarray:
    """Check an upstream gradient has shape ``(batch,) + layer.output_shape`` and the
    layer dtype; raise ``TypeError``/``ValueError`` naming the expected shape."""
    if not isinstance(dy, np.ndarray):
        raise TypeError(f"{layer.name}: dy must be an ndarray, got {type(dy).__name__}")
    if dy.dtype != layer.dtype:
        raise TypeError(f"{layer.name}: dy dtype {dy.dtype} does not match layer dtype {layer.dtype}")
    want = (batch,) + tuple(layer.output_shape)
    if dy.shape != want:
        raise ValueError(f"{layer.name}: expected dy of shape {want}, got {dy.shape}")
    return dy


def check_shape_arg(shape, name: str = "input_shape", ndim: int = None) -> Tuple[int, ...]:
    """Validate a per-example shape argument (tuple of positive ints)."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    if not isinstance(shape, (tuple, list)) or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in shape):
        raise TypeError(f"{name} must be a tuple of ints, got {shape!r}")
    shape = tuple(int(s) for s in shape)
    if any(s < 1 for s in shape) or len(shape) == 0:
        raise ValueError(f"{name} must be a non-empty tuple of positive ints, got {shape!r}")
    if ndim is not None and len(shape) != ndim:
        raise ValueError(f"{name} must have {ndim} entries, got {shape!r}")
    return shape


def check_rate(rate, name: str = "rate") -> float:
    """A probability in [0, 1)."""
    return check_real(rate, name, 0.0, 1.0, high_open=True)


def check_conv_inputs(x, kernel, bias, in_axis: int):
    """Validate the arrays of a functional convolution; ``kernel.shape[in_axis]`` must
    equal the channels of ``x`` (2 for HWIO, 3 for the transposed layout). Returns the
    number of output channels."""
    for name, a, nd in (("x", x, 4), ("kernel", kernel, 4)):
        if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
            raise TypeError(f"{name} must be a float ndarray, got {type(a).__name__} "
                            f"{getattr(a, 'dtype', '')}")
        if a.ndim != nd:
            raise ValueError(f"{name} must have 4 dimensions ({'(N, H, W, C)' if name == 'x' else '(kh, kw, ., .)'}), "
                             f"got shape {a.shape}")
    if kernel.shape[in_axis] != x.shape[3]:
        raise ValueError(f"kernel {kernel.shape} expects {kernel.shape[in_axis]} input channels, "
                         f"x {x.shape} has {x.shape[3]}")
    f = kernel.shape[5 - in_axis]
    if bias is not None and np.shape(bias) != (f,):
        raise ValueError(f"bias must have shape ({f},), got {np.shape(bias)}")
    return f
