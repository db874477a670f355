"""Figure of the Carmichael experiment (PNG grid, no matplotlib).

``recalls.png``: one row per stimulus: the clean scene, the ambiguous stimulus, the
recall cue, the recall without context (the stimulus's own latent), then for each
context the context scene and the recall under it.
"""
from __future__ import annotations

import os
from typing import Dict, List, Sequence

import numpy as np

from refmem.imageio import save_grid

__all__ = ["write_figures"]


def write_figures(out_dir: str, st: Dict[str, np.ndarray], cues: np.ndarray, ctx_images: Dict[int, np.ndarray],
                  recalls: Dict[int, np.ndarray], no_context: np.ndarray, contexts: Sequence[int]) -> List[str]:
    """Write ``recalls.png``; returns the file names written."""
    tiles = []
    for i in range(len(st["stimuli"])):
        tiles += [st["clean"][i], st["stimuli"][i], cues[i], no_context[i]]
        for c in contexts:
            tiles += [ctx_images[c], recalls[c][i]]
    save_grid(os.path.join(out_dir, "recalls.png"), np.stack(tiles), ncols=4 + 2 * len(contexts), scale=2)
    return ["recalls.png"]
