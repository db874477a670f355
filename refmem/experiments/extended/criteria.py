"""Pass rules of the extended model (E12-E13), declared once, and their measures.

:data:`CRITERIA` lists the :class:`~refmem.experiments.criteria.Criterion` of E12-E13;
:func:`measures` reads the named scalars from a sweep summary
(:func:`refmem.experiments.extended.sweep.summarize`) at the low and high figure
thresholds. The run summarises one sweep per negative control with the same
function (:func:`refmem.experiments.extended.run.control_summaries`):

==============  ===========================================================================
control         broken model
==============  ===========================================================================
``untrained``   an untrained VAE of the same architecture: it predicts nothing, so the
                hippocampus stores nearly every element
``blend``       a hippocampus at beta = 0.001 instead of 100: recall blends the traces
``vae_only``    traces without sensory elements (threshold 1 at every level): recall is
                the VAE's reconstruction of the retrieved latent
``store_all``   traces with every element (threshold 0 at every level)
==============  ===========================================================================

The per-item invariants (stored units never increase with the threshold; the recall
error never decreases where retrieval is exact) hold by construction, so they are
reported, not used as criteria.

Examples
--------
>>> [c.id for c in CRITERIA]
['E12a', 'E12b', 'E12c', 'E12d', 'E13a', 'E13b', 'E13c', 'E13d']
"""
from __future__ import annotations

from typing import Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np

from refmem.experiments.criteria import finite_or_none, from_table

__all__ = ["CRITERIA", "TABLE", "NOTES", "MEASURES", "CONTROLS", "measures"]

#: the negative controls, by name
CONTROLS = {
    "untrained": "untrained VAE of the same architecture",
    "blend": "hippocampus at beta = 0.001 (recall blends traces)",
    "vae_only": "no sensory elements stored (threshold 1)",
    "store_all": "every element stored (threshold 0)",
}


def _row(s: Mapping, t: float) -> Mapping:
    for r in s["per_threshold"]:
        if abs(r["threshold"] - float(t)) < 1e-12:
            return r
    raise KeyError(f"threshold {t} not in the summary")


def _sweep(s: Mapping, key: str):
    """The sweep thresholds and the mean of ``key`` over them; a trend needs two or more."""
    sw = s["sweep"]
    if len(sw["thresholds"]) < 2:
        raise KeyError("a trend needs at least two sweep thresholds")
    return sw["thresholds"], sw[key]


def _rho(xy) -> float:
    """Spearman's rho; 0 for a constant sequence (no trend)."""
    from refmem.analysis.stats import spearman

    x, y = xy
    return 0.0 if np.ptp(np.asarray(y, float)) == 0 else float(spearman(x, y)[0])


#: measure name -> function of (summary, low threshold, high threshold)
MEASURES: Dict[str, Callable[[Mapping, float, float], float]] = {
    "e12_exact_retrieval_min": lambda s, lo, hi: min(r["exact_retrieval"] for r in s["per_threshold"]),
    "e12_low_sse_over_vae": lambda s, lo, hi: _row(s, lo)["sse_mean"] / s["vae_only"]["sse_mean"],
    "e12_low_sse_squares_over_vae": lambda s, lo, hi: _row(s, lo)["sse_in_mean"] / s["vae_only"]["sse_in_mean"],
    "e12_squares_lost_at_high": lambda s, lo, hi: _row(s, hi)["sse_in_mean"] - _row(s, lo)["sse_in_mean"],
    "e13_spearman_sse": lambda s, lo, hi: _rho(_sweep(s, "sse_mean")),
    "e13_spearman_count": lambda s, lo, hi: _rho(_sweep(s, "count_mean")),
    "e13_sse_ratio": lambda s, lo, hi: _sweep(s, "sse_mean")[1][-1] / _sweep(s, "sse_mean")[1][0],
    "e13_trace_fraction_at_highest": lambda s, lo, hi: _row(s, max(s["sweep"]["thresholds"]))["economy_mean"],
}

#: what a reader needs to interpret a rule (deviations from the paper's procedure, extensions)
NOTES = {
    "E12a": "min over thresholds of the fraction of items whose winner is the cued item with weight >= 1 - 1e-6 "
            "(the retrieved trace is the stored one).",
    "E12b": "SSE at the low figure threshold / SSE of g(mu(x)); at least 2x lower.",
    "E12c": "the same ratio over the pixels of the squares.",
    "E12d": "SSE inside the squares, high minus low figure threshold.",
    "E13a": "Spearman over the sweep thresholds (1 iff the mean SSE strictly increases); 0 for a constant curve.",
    "E13d": "(stored sensory elements + latent) / image elements; a VAE that predicts nothing makes the "
            "hippocampus store the whole image.",
}

#: the criteria of E12-E13, one row each: (id, effect, rule, control, the paper's value or wording)
TABLE: List[Tuple[str, str, str, str, str]] = [
    ("E12a", "the cue retrieves the item's own stored trace", "e12_exact_retrieval_min >= 0.9", "blend",
     "argmax of the softmax = item for >= 90% of items"),
    ("E12b", "at a low threshold recall beats the VAE alone", "e12_low_sse_over_vae < 0.5", "vae_only",
     "combined output has lower error than the VAE-only reconstruction"),
    ("E12c", "... in particular inside the white squares", "e12_low_sse_squares_over_vae < 0.5", "vae_only",
     "in particular inside the white-square region"),
    ("E12d", "at a high threshold the squares are partly lost", "e12_squares_lost_at_high > 0", "store_all",
     "error inside the squares at the high threshold exceeds the low-threshold error"),
    ("E13a", "recall error rises with the threshold", "e13_spearman_sse > 0.99", "vae_only",
     "rho = +1 (20.4 -> 530.7)"),
    ("E13b", "elements above the threshold fall with it", "e13_spearman_count < -0.99", "store_all",
     "rho = -1 (4693 -> 691)"),
    ("E13c", "error at the highest threshold >= 5x the lowest", "e13_sse_ratio >= 5", "vae_only",
     "x26 (530.7 / 20.4)"),
    ("E13d", "traces are small at the highest threshold", "e13_trace_fraction_at_highest <= 0.1", "untrained",
     "691 of 12,288 elements above 0.20 (5.6%)"),
]


CRITERIA = from_table(TABLE, NOTES)


def measures(summary: Mapping, low: float, high: float) -> Dict[str, Optional[float]]:
    """The named scalars of :data:`MEASURES` from a sweep summary.

    Parameters
    ----------
    summary : mapping
        From :func:`refmem.experiments.extended.sweep.summarize`.
    low, high : float
        The low and high figure thresholds (paper: 0.03 and 0.15).

    Returns
    -------
    dict
        Only the measures whose inputs exist (a control swept at one threshold has no
        high-threshold row); ``None`` for a value that is not finite.
    """
    out: Dict[str, Optional[float]] = {}
    for name, fn in MEASURES.items():
        try:
            out[name] = finite_or_none(fn(summary, low, high))
        except (KeyError, IndexError, ZeroDivisionError, ValueError):
            continue
    return out
