"""Statistics of a sweep's runs across seeds.

Runs of one experiment with one preset and the same overrides form a *group*; within a
group each seed is one replication. For every criterion (the rows each run's
``results.json`` holds) :func:`aggregate` gives the pass rate over seeds and the mean, SD
and 95% confidence interval of the measured value,

.. math:: \\bar x \\pm t_{0.975,\\,n-1}\\, s / \\sqrt{n},

next to the paper's value; per-epoch curves (:data:`CURVES`) get the same per epoch.
An effect that passes in fewer than :data:`ROBUST_RATE` of the seeds is *fragile* (or
*fails*, in none).
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

__all__ = ["CURVES", "ROBUST_RATE", "mean_ci", "status", "aggregate"]

#: per-epoch series of an experiment's ``results.json``: experiment -> ((key, label), ...)
CURVES = {
    "consolidation": (("heldout_recon", "held-out reconstruction error"),
                      ("decoding_accuracy", "decoding accuracy of the latent code")),
}

#: smallest pass rate over seeds of an effect that is not fragile (4 of 5 seeds)
ROBUST_RATE = 0.8


def mean_ci(values: Sequence[Optional[float]], level: float = 0.95) -> Dict[str, Any]:
    """Mean, SD (n - 1) and the ``level`` confidence interval (Student t) of the finite values.

    Parameters
    ----------
    values : sequence of float or None
        None and NaN (a measure a run could not take) are left out.
    level : float in (0, 1)

    Returns
    -------
    dict
        ``n, mean, sd, ci_low, ci_high, half_width``; SD and the interval are None for
        fewer than two values, everything but ``n`` for none.

    Examples
    --------
    >>> r = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    >>> r["mean"], round(r["sd"], 4), round(r["half_width"], 4)
    (3.0, 1.5811, 1.9632)
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    x = np.array([float(v) for v in values if v is not None and math.isfinite(float(v))], dtype=np.float64)
    n = int(x.size)
    out: Dict[str, Any] = {"n": n, "mean": None, "sd": None, "ci_low": None, "ci_high": None, "half_width": None}
    if n == 0:
        return out
    out["mean"] = float(x.mean())
    if n >= 2:
        from scipy import stats

        sd = float(x.std(ddof=1))
        hw = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
        out.update(sd=sd, half_width=hw, ci_low=out["mean"] - hw, ci_high=out["mean"] + hw)
    return out


def status(n_passed: int, n: int) -> str:
    """``"holds"`` (every seed), ``"mostly"`` (>= ROBUST_RATE), ``"fragile"`` (some) or ``"fails"`` (none).

    >>> [status(k, 5) for k in (5, 4, 3, 0)]
    ['holds', 'mostly', 'fragile', 'fails']
    """
    if n <= 0:
        return "no runs"
    if n_passed == n:
        return "holds"
    if n_passed >= ROBUST_RATE * n - 1e-9:
        return "mostly"
    return "fragile" if n_passed > 0 else "fails"


def _group_key(meta: Mapping[str, Any]) -> tuple:
    return meta["experiment"], meta["preset"], tuple(meta.get("overrides", ()))


def _criteria(members: Sequence[tuple]) -> List[Dict[str, Any]]:
    order: List[str] = []
    by_id: Dict[str, Dict[str, Any]] = {}
    for meta, res in members:
        for row in res.get("criteria", res.get("effects")) or []:
            cid = str(row["id"])
            if cid not in by_id:
                order.append(cid)
                by_id[cid] = {"id": cid, "effect": row.get("effect", ""), "rule": row.get("rule", ""),
                              "paper": row.get("paper", ""), "control": row.get("control", ""),
                              "seeds": [], "values": [], "passed": [], "control_values": [],
                              "control_passed": []}
            c = by_id[cid]
            c["seeds"].append(meta["seed"])
            c["values"].append(row.get("value"))
            c["passed"].append(row.get("passed"))
            c["control_values"].append(row.get("control_value"))
            c["control_passed"].append(row.get("control_passed"))
    out = []
    for cid in order:
        c = by_id[cid]
        n = len(c["seeds"])
        n_passed = sum(p is True for p in c["passed"])
        c.update(n=n, n_measured=sum(p is not None for p in c["passed"]), n_passed=n_passed,
                 pass_rate=n_passed / n, status=status(n_passed, n), stats=mean_ci(c["values"]),
                 control_stats=mean_ci(c["control_values"]),
                 control_passes=sum(p is True for p in c["control_passed"]),
                 control_runs=sum(p is not None for p in c["control_passed"]))
        out.append(c)
    return out


def _curves(experiment: str, members: Sequence[tuple]) -> Dict[str, Any]:
    out = {}
    for key, label in CURVES.get(experiment, ()):
        series = [(meta["seed"], res[key]) for meta, res in members if isinstance(res.get(key), list)]
        if not series:
            continue
        length = max(len(s) for _, s in series)
        per_epoch = [mean_ci([s[i] for _, s in series if i < len(s)]) for i in range(length)]
        out[key] = {"label": label, "epochs": list(range(length)), "seeds": [seed for seed, _ in series],
                    "values": [list(s) for _, s in series],
                    **{k: [p[k] for p in per_epoch] for k in ("n", "mean", "sd", "ci_low", "ci_high")}}
    return out


def aggregate(members: Sequence[tuple]) -> List[Dict[str, Any]]:
    """Group finished runs and compute their statistics across seeds.

    Parameters
    ----------
    members : sequence of (meta, results)
        ``meta`` has ``experiment``, ``preset``, ``overrides`` and ``seed``; ``results``
        is the run's ``results.json``.

    Returns
    -------
    list of dict
        One per group, in order of first appearance: ``experiment``, ``preset``,
        ``overrides``, ``seeds``, ``criteria`` (per criterion: ``n``, ``n_passed``,
        ``pass_rate``, ``status``, ``stats`` (:func:`mean_ci` of the values), the control's
        ``control_stats`` and ``control_passes``, and the per-seed ``seeds``, ``values``,
        ``passed``), ``curves`` (per series: per-epoch ``n, mean, sd, ci_low, ci_high``).
    """
    groups: Dict[tuple, List[tuple]] = {}
    for meta, res in members:
        groups.setdefault(_group_key(meta), []).append((meta, res))
    out = []
    for (experiment, preset, overrides), mem in groups.items():
        mem = sorted(mem, key=lambda m: m[0]["seed"])
        out.append({"experiment": experiment, "preset": preset, "overrides": list(overrides),
                    "seeds": [m[0]["seed"] for m in mem], "criteria": _criteria(mem),
                    "curves": _curves(experiment, mem)})
    return out
