"""Optional matplotlib access for line plots and scatter plots.

matplotlib is an optional extra (``pip install 'refmem[plot]'``). Experiments call
:func:`get_pyplot`; when it returns ``None`` they skip the figure and record its name
in the run's list of skipped figures. Image grids never need matplotlib
(:mod:`refmem.imageio`).
"""
from __future__ import annotations

import os


__all__ = ["get_pyplot", "save_figure"]


def get_pyplot():
    """Return ``matplotlib.pyplot`` with the non-interactive Agg backend, or None."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: "os.PathLike | str", dpi: int = 120) -> None:
    """Save a matplotlib figure atomically as PNG and close it."""
    import io

    from refmem._utils import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
    fig.clf()
    import matplotlib.pyplot as plt

    plt.close(fig)
