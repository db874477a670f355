"""Error-threshold sweep of the extended model (docs/paper-experiments.md, E13) and its statistics.

For each encoding threshold the same stimuli are stored and recalled from the same cues
(one 10 % mask per item, shared by all thresholds, as in the paper's code, which
re-seeds its generator before it draws a cue's mask; see ``docs/extended.md``). Per item
and threshold:

=====  ==============================================================  ====================
 label quantity                                                        code
=====  ==============================================================  ====================
 (X10) SSE = sum_pc (x_pc - y_pc)^2, y the final recall                :func:`sse`
 (X11) count = sum_pc [|x_pc - x_hat_pc| > t] (per channel, clean x)   :func:`channel_count`
 (X12) economy = (nnz(s) + L) / (H W C)                                :func:`summarize`
=====  ==============================================================  ====================

Statistics (means, SEM, Spearman correlations) come from :mod:`refmem.analysis.stats`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Optional, Sequence, Tuple

import numpy as np

from refmem._utils import as_rng, check_array, check_float_array
from refmem.systems.extended import ExtendedModel, RecallResult
from refmem.hippocampus.traces import check_images, check_threshold, vae_forward

__all__ = ["make_stimuli", "make_cues", "square_region_mask", "sse", "channel_count",
           "SweepResult", "threshold_sweep", "summarize", "monotonicity", "EXACT_WEIGHT"]

#: a retrieval is "exact" (the output is the winner's stored trace to float precision)
#: when the winner's final attention weight is at least this
EXACT_WEIGHT = 1.0 - 1e-6


# ------------------------------------------------------------------------- stimuli
def make_stimuli(n: int, rng: Any, image_size: int = 64, dtype: Any = np.float32,
                 squares: Optional[Sequence[Tuple[float, int, int]]] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Scenes with the paper's three semi-transparent white squares (docs/paper-experiments.md, E12).

    Parameters
    ----------
    n : int, >= 1
    rng : None, int or numpy.random.Generator
        Draws the scenes (use a stream independent of the VAE's training data).
    image_size : int, default 64
    dtype : float dtype, default float32
    squares : sequence of (alpha, col, row), optional
        Default ``refmem.datasets.transforms.PAPER_SQUARES``.

    Returns
    -------
    stimuli : (n, H, W, 3) ndarray in [0, 1]
        Quantised to 256 levels as the paper's uint8 pipeline.
    labels : (n, 6) int ndarray
        Shapes3D factors of the scenes.
    """
    from refmem.datasets import shapes3d, transforms

    if int(n) < 1:
        raise ValueError(f"n must be >= 1 (an empty item set cannot be stored), got {n}")
    squares = transforms.PAPER_SQUARES if squares is None else squares
    images, labels = shapes3d.sample(int(n), as_rng(rng), image_size=int(image_size))
    x = transforms.add_white_squares(np.asarray(images, dtype=dtype), squares, size=int(image_size) // 8,
                                     quantize=True)
    return x.astype(dtype, copy=False), np.asarray(labels)


def make_cues(stimuli: np.ndarray, fraction: float, rng: Any) -> np.ndarray:
    """Recall cues: each stimulus with exactly ``int(H W C f)`` elements zeroed (paper: f = 0.1).

    A fresh mask is drawn per item (``refmem.datasets.transforms.noise``).

    Parameters
    ----------
    stimuli : (N, H, W, C) ndarray in [0, 1]
    fraction : float in [0, 1]
    rng : None, int or numpy.random.Generator

    Returns
    -------
    cues : (N, H, W, C) ndarray, dtype of ``stimuli``
    """
    from refmem.datasets.transforms import noise

    x = check_images(stimuli, "stimuli")
    gen = as_rng(rng)
    return np.stack([noise(xi, fraction, gen, mode="zero") for xi in x]).astype(x.dtype, copy=False)


def square_region_mask(image_size: int = 64, squares: Optional[Sequence] = None,
                       size: Optional[int] = None) -> np.ndarray:
    """(H, W) bool mask of the pixels covered by the white squares.

    Parameters
    ----------
    image_size : int
    squares : sequence of (alpha, col, row), default ``PAPER_SQUARES``
    size : int, default ``image_size // 8``
    """
    from refmem.datasets.transforms import PAPER_SQUARES

    squares = PAPER_SQUARES if squares is None else squares
    size = int(image_size) // 8 if size is None else int(size)
    m = np.zeros((int(image_size), int(image_size)), bool)
    for _alpha, col, row in squares:
        m[max(row, 0):max(row + size, 0), max(col, 0):max(col + size, 0)] = True
    return m


# ------------------------------------------------------------------------- metrics
def sse(x: np.ndarray, y: np.ndarray, region: Optional[np.ndarray] = None) -> np.ndarray:
    """Per-image summed squared error ``sum_pc (x - y)^2`` (X10), in float64.

    Parameters
    ----------
    x, y : (N, H, W, C) ndarray
    region : (H, W) bool ndarray, optional
        Sum only over these pixels (all channels).

    Returns
    -------
    (N,) ndarray of float64
    """
    x = check_float_array(x, "x", ndim=4)
    y = check_float_array(y, "y", shape=x.shape)
    d2 = (x.astype(np.float64) - y.astype(np.float64)) ** 2  # (x - y)^2
    if region is not None:
        region = check_array(region, "region", shape=x.shape[1:3], dtype_kind="b")
        d2 = d2 * region[None, :, :, None]
    return d2.sum(axis=(1, 2, 3))  # SSE = sum_pc (x - y)^2  (X10)


def channel_count(x: np.ndarray, x_hat: np.ndarray, threshold: float) -> np.ndarray:
    """The paper's count: channel-elements whose ``|x - x_hat|`` exceeds ``t`` (X11).

    Per channel on the clean stimulus, unlike the channel-averaged encoding mask.

    Parameters
    ----------
    x, x_hat : (N, H, W, C) ndarray
    threshold : float, >= 0

    Returns
    -------
    (N,) ndarray of int64
    """
    t = check_threshold(threshold)
    x = check_float_array(x, "x", ndim=4)
    x_hat = check_float_array(x_hat, "x_hat", shape=x.shape)
    return np.count_nonzero(np.abs(x - x_hat) > t, axis=(1, 2, 3)).astype(np.int64)  # (X11)


# -------------------------------------------------------------------------- sweep
@dataclass
class SweepResult:
    """Per-item measurements of a threshold sweep; arrays are (T, N) unless noted.

    Attributes
    ----------
    thresholds : (T,) float ndarray, increasing
    sse, sse_in, sse_out : recall SSE against the clean stimulus: all, inside the
        squares, outside them
    count : the paper's per-channel count (X11)
    stored : non-zero sensory elements of the stored trace
    correct : bool, retrieval winner == cued item
    max_weight : the winner's final attention weight
    vae_sse, vae_sse_in, vae_sse_out : (N,) SSE of the VAE alone, ``g(mu(x))``
    vae_cue_sse : (N,) SSE of the VAE alone recalling from the cue, ``g(mu(cue))``
    latent_dim, image_elements : int
    recalls : dict float -> RecallResult, kept for the thresholds asked for
    """

    thresholds: np.ndarray
    sse: np.ndarray
    sse_in: np.ndarray
    sse_out: np.ndarray
    count: np.ndarray
    stored: np.ndarray
    correct: np.ndarray
    max_weight: np.ndarray
    vae_sse: np.ndarray
    vae_sse_in: np.ndarray
    vae_sse_out: np.ndarray
    vae_cue_sse: np.ndarray
    latent_dim: int
    image_elements: int
    recalls: Dict[float, RecallResult] = field(default_factory=dict)

    def index(self, threshold: float) -> int:
        """Row of ``threshold`` in the (T, N) arrays."""
        hits = np.flatnonzero(np.isclose(self.thresholds, float(threshold), rtol=0, atol=1e-12))
        if hits.size == 0:
            raise ValueError(f"threshold {threshold} was not swept; swept {self.thresholds.tolist()}")
        return int(hits[0])


def threshold_sweep(vae: Any, stimuli: np.ndarray, cues: np.ndarray, thresholds: Iterable[float], *,
                    beta: float = 100.0, normalize: bool = True, max_iter: int = 5,
                    combine_tol: float = 0.01, batch_size: int = 50, keep: Iterable[float] = (),
                    progress: Any = None) -> SweepResult:
    """Store and recall all items at each threshold (docs/paper-experiments.md, E12-E13).

    The VAE passes that do not depend on the threshold (``g(mu(x))`` of the stimuli and
    of the cues) run once; each threshold then stores the traces in a fresh
    :class:`ExtendedModel`, recalls every item from its cue and decodes the retrieved
    latents.

    Parameters
    ----------
    vae : refmem.neocortex.vae.VAE
    stimuli : (N, H, W, C) ndarray in [0, 1], N >= 1
    cues : (N, H, W, C) ndarray in [0, 1], the cue of item i in row i
    thresholds : iterable of float, each >= 0
        Sorted and de-duplicated.
    beta, normalize, max_iter, combine_tol, batch_size
        See :class:`ExtendedModel`.
    keep : iterable of float
        Thresholds whose full :class:`RecallResult` is kept (figures).
    progress : callable(str), optional
        Called with one line per threshold.

    Returns
    -------
    SweepResult
    """
    x = check_images(stimuli, "stimuli")
    c = check_images(cues, "cues", image_shape=x.shape[1:])
    if len(c) != len(x):
        raise ValueError(f"need one cue per stimulus, got {len(c)} cues for {len(x)} stimuli")
    ts = sorted({check_threshold(t) for t in thresholds})
    if not ts:
        raise ValueError("thresholds must not be empty")
    keep = {check_threshold(t) for t in keep}
    x_hat, mu = vae_forward(vae, x, batch_size)
    c_hat, c_mu = vae_forward(vae, c, batch_size)
    region = square_region_mask(x.shape[1]) if x.shape[1] == x.shape[2] else np.zeros(x.shape[1:3], bool)
    n, T = len(x), len(ts)
    out = {k: np.zeros((T, n)) for k in ("sse", "sse_in", "sse_out", "max_weight")}
    count, stored = np.zeros((T, n), np.int64), np.zeros((T, n), np.int64)
    correct = np.zeros((T, n), bool)
    recalls: Dict[float, RecallResult] = {}
    targets = np.arange(n)
    for k, t in enumerate(ts):
        model = ExtendedModel(vae, t, beta=beta, normalize=normalize, max_iter=max_iter,
                              combine_tol=combine_tol, batch_size=batch_size)
        enc = model.store(x, x_hat=x_hat, mu=mu)
        res = model.recall(c, targets=targets, cue_x_hat=c_hat, cue_mu=c_mu)
        out["sse"][k] = sse(x, res.combined)
        out["sse_in"][k] = sse(x, res.combined, region)
        out["sse_out"][k] = sse(x, res.combined, ~region)
        out["max_weight"][k] = res.max_weight
        count[k] = channel_count(x, x_hat, t)
        stored[k] = enc.n_sensory
        correct[k] = res.correct
        if any(abs(t - kt) < 1e-12 for kt in keep):
            recalls[t] = res
        if progress is not None:
            progress(f"threshold {t:.3f}: mean SSE {out['sse'][k].mean():.1f}, mean count "
                     f"{count[k].mean():.0f}, retrieval {correct[k].mean():.0%}")
    return SweepResult(thresholds=np.asarray(ts), sse=out["sse"], sse_in=out["sse_in"],
                       sse_out=out["sse_out"], count=count, stored=stored, correct=correct,
                       max_weight=out["max_weight"], vae_sse=sse(x, x_hat),
                       vae_sse_in=sse(x, x_hat, region), vae_sse_out=sse(x, x_hat, ~region),
                       vae_cue_sse=sse(x, c_hat), latent_dim=int(mu.shape[1]),
                       image_elements=int(np.prod(x.shape[1:])), recalls=recalls)


# --------------------------------------------------------------------- statistics
def monotonicity(sweep: SweepResult, rows: Optional[Sequence[int]] = None, rtol: float = 1e-6) -> dict:
    """Per-item check of the error-monotonicity invariant over increasing thresholds.

    An item violates "error never decreases" if ``SSE(t_{k+1}) < SSE(t_k) - tol`` for
    some k, with ``tol = rtol * (1 + SSE(t_k))`` (float rounding only), and "stored units
    never increase" if ``stored(t_{k+1}) > stored(t_k)``.

    Returns
    -------
    dict
        ``n_items``, ``stored_violations`` (items), ``sse_violations`` (items),
        ``sse_violations_exact`` (items whose retrieval was correct and exact at every
        threshold, where the invariant is a theorem; see ``docs/extended.md``),
        ``n_exact_items``, ``violating_items`` (indices).
    """
    rows = list(range(len(sweep.thresholds))) if rows is None else list(rows)
    e, s = sweep.sse[rows], sweep.stored[rows]
    tol = rtol * (1.0 + e[:-1])
    bad_e = np.any(e[1:] < e[:-1] - tol, axis=0) if len(rows) > 1 else np.zeros(e.shape[1], bool)
    bad_s = np.any(s[1:] > s[:-1], axis=0) if len(rows) > 1 else np.zeros(s.shape[1], bool)
    exact = np.all(sweep.correct[rows] & (sweep.max_weight[rows] >= EXACT_WEIGHT), axis=0)
    return {"n_items": int(e.shape[1]), "stored_violations": int(bad_s.sum()),
            "sse_violations": int(bad_e.sum()), "n_exact_items": int(exact.sum()),
            "sse_violations_exact": int((bad_e & exact).sum()),
            "violating_items": np.flatnonzero(bad_e).tolist()}


def _strict(values: Sequence[float], sign: int) -> bool:
    d = np.diff(np.asarray(values, float))
    return bool(np.all(sign * d > 0))


def summarize(sweep: SweepResult, sweep_thresholds: Optional[Iterable[float]] = None) -> dict:
    """Means, SEMs, Spearman correlations and storage economy of a sweep (JSON-ready).

    Parameters
    ----------
    sweep : SweepResult
    sweep_thresholds : iterable of float, optional
        The thresholds of the paper's sweep (the rows used for the Spearman
        correlations and the monotonicity check); default all rows.

    Returns
    -------
    dict
        ``per_threshold`` (list of dicts, every swept threshold), ``sweep`` (the paper's
        table rows), ``spearman_sse`` / ``spearman_count`` (``rho``, ``p``),
        ``strictly_monotone``, ``monotonicity`` (:func:`monotonicity`), ``vae_only``.
    """
    from refmem.analysis.stats import sem, spearman

    per = []
    for k, t in enumerate(sweep.thresholds):
        economy = (sweep.stored[k] + sweep.latent_dim) / sweep.image_elements  # (X12)
        row = {"threshold": float(t), "retrieval_accuracy": float(sweep.correct[k].mean()),
               "exact_retrieval": float((sweep.correct[k] & (sweep.max_weight[k] >= EXACT_WEIGHT)).mean()),
               "economy_mean": float(economy.mean()), "economy_sem": float(sem(economy))}
        for name in ("sse", "sse_in", "sse_out", "count", "stored"):
            v = getattr(sweep, name)[k].astype(np.float64)
            row[f"{name}_mean"], row[f"{name}_sem"] = float(v.mean()), float(sem(v))
        per.append(row)
    rows = (list(range(len(sweep.thresholds))) if sweep_thresholds is None
            else sorted({sweep.index(t) for t in sweep_thresholds}))  # ascending, as below assumes
    ts = [per[r]["threshold"] for r in rows]
    e_mean = [per[r]["sse_mean"] for r in rows]
    c_mean = [per[r]["count_mean"] for r in rows]
    out = {"n_items": int(sweep.sse.shape[1]), "latent_dim": sweep.latent_dim,
           "image_elements": sweep.image_elements, "per_threshold": per,
           "sweep": {"thresholds": ts, "sse_mean": e_mean, "sse_sem": [per[r]["sse_sem"] for r in rows],
                     "count_mean": c_mean, "count_sem": [per[r]["count_sem"] for r in rows]},
           "vae_only": {"sse_mean": float(sweep.vae_sse.mean()), "sse_sem": float(sem(sweep.vae_sse)),
                        "sse_in_mean": float(sweep.vae_sse_in.mean()),
                        "sse_out_mean": float(sweep.vae_sse_out.mean()),
                        "cue_sse_mean": float(sweep.vae_cue_sse.mean())},
           "strictly_monotone": {"sse_increasing": _strict(e_mean, +1), "count_decreasing": _strict(c_mean, -1)},
           "monotonicity": monotonicity(sweep, rows)}
    if len(rows) >= 2:
        for key, vals in (("spearman_sse", e_mean), ("spearman_count", c_mean)):
            rho, p = spearman(ts, vals)  # (nan, nan) for constant input
            out[key] = {"rho": None if np.isnan(rho) else rho, "p": None if np.isnan(p) else p}
    return out
