"""A sweep's report: ``summary.md``, ``summary.json`` and figures of per-epoch curves.

The curves are drawn with matplotlib when the ``plot`` extra is installed: the mean over
seeds, its 95% confidence band and each seed's curve. Without it a plain raster of the
same (band, mean line, seed lines; no axis labels) is written with :mod:`refmem.imageio`,
and the numbers are in ``summary.md``. The mean and band are drawn only over the epochs
every seed's run reached (a run that stopped early has fewer); the table marks an epoch
with fewer values "(k of N seeds)".
"""
from __future__ import annotations

import math
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from refmem._utils import save_json
from refmem.progress import format_seconds
from refmem.sweep.aggregate import ROBUST_RATE

__all__ = ["write_summary", "curve_figure", "group_label"]


def _fmt(v: Optional[float]) -> str:
    return "n/a" if v is None or not math.isfinite(float(v)) else f"{float(v):.4g}"


def group_label(group: Mapping[str, Any]) -> str:
    """``"consolidation, preset tiny"`` (+ the overrides)."""
    ov = f" with {', '.join(group['overrides'])}" if group["overrides"] else ""
    return f"{group['experiment']}, preset {group['preset']}{ov}"


def _slug(group: Mapping[str, Any]) -> str:
    import hashlib
    import json

    s = f"{group['experiment']}-{group['preset']}"
    if group["overrides"]:
        s += "-" + hashlib.sha256(json.dumps(list(group["overrides"])).encode()).hexdigest()[:8]
    return s


def _mean_ci_text(st: Mapping[str, Any]) -> str:
    if st["mean"] is None:
        return "n/a"
    if st["half_width"] is None:
        return f"{_fmt(st['mean'])} (n={st['n']})"
    return f"{_fmt(st['mean'])} ± {_fmt(st['half_width'])}"


def _criteria_table(group: Mapping[str, Any]) -> str:
    head = ("| id | effect | paper | mean ± 95% CI | SD | seeds passing | status | control passes |\n"
            "|---|---|---|---|---|---|---|---|\n")
    body = []
    for c in group["criteria"]:
        st = c["stats"]
        flag = f"**{c['status']}**" if c["status"] in ("fragile", "fails") else c["status"]
        ctl = f"{c['control_passes']}/{c['control_runs']}" if c["control_runs"] else "-"
        body.append(f"| {c['id']} | {c['effect']} (`{c['rule']}`) | {c['paper'] or '-'} | {_mean_ci_text(st)} | "
                    f"{_fmt(st['sd'])} | {c['n_passed']}/{c['n']} | {flag} | {ctl} |")
    return head + "\n".join(body) + "\n"


def _curve_table(curves: Mapping[str, Any]) -> str:
    keys = list(curves)
    head = "| epoch | " + " | ".join(curves[k]["label"] for k in keys) + " |\n"
    head += "|---|" + "---|" * len(keys) + "\n"
    rows = []
    for i in range(max(len(curves[k]["epochs"]) for k in keys)):
        cells = []
        for k in keys:
            c = curves[k]
            if i >= len(c["mean"]):
                cells.append("")
            else:
                st = {"mean": c["mean"][i], "half_width": None if c["ci_high"][i] is None
                      else c["ci_high"][i] - c["mean"][i], "n": c["n"][i]}
                fewer = c["n"][i] < len(c["seeds"]) and st["half_width"] is not None
                cells.append(_mean_ci_text(st) + (f" ({c['n'][i]} of {len(c['seeds'])} seeds)" if fewer else ""))
        rows.append(f"| {i} | " + " | ".join(cells) + " |")
    return head + "\n".join(rows) + "\n"


def _line(img: np.ndarray, x0: float, y0: float, x1: float, y1: float, color, width: int = 1) -> None:
    n = int(2 * max(abs(x1 - x0), abs(y1 - y0))) + 2
    xs = np.round(np.linspace(x0, x1, n)).astype(int)
    ys = np.round(np.linspace(y0, y1, n)).astype(int)
    for d in range(width):
        ok = (ys + d >= 0) & (ys + d < img.shape[0]) & (xs >= 0) & (xs < img.shape[1])
        img[ys[ok] + d, xs[ok]] = color


def _every_seed(c: Mapping[str, Any]) -> List[bool]:
    """Per epoch, whether every seed's run reached it (its series is that long): the mean
    and its band are drawn there only, since after a run stopped early they would follow
    fewer, surviving runs."""
    return [sum(i < len(s) for s in c["values"]) == len(c["seeds"]) for i in range(len(c["mean"]))]


def _drawn_curve(c: Mapping[str, Any]):
    """``(mean, ci_low, ci_high)`` as float arrays as the figures draw them: NaN where a
    value is missing or not every seed's run reached the epoch (:func:`_every_seed`)."""
    full = np.array(_every_seed(c), bool)
    return tuple(np.where(full, np.array([np.nan if v is None else v for v in c[k]], float), np.nan)
                 for k in ("mean", "ci_low", "ci_high"))


def _raster_panel(c: Mapping[str, Any], h: int = 220, w: int = 320, m: int = 14) -> np.ndarray:
    img = np.ones((h, w, 3))
    mean, band_lo, band_hi = _drawn_curve(c)  # NaN where not drawn
    vals = [v for s in c["values"] for v in s] + list(band_lo) + list(band_hi)  # what is drawn
    vals = [float(v) for v in vals if v is not None and math.isfinite(float(v))]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    lo, hi = (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)
    n = max(len(c["mean"]), 2)
    X = lambda i: m + i / (n - 1) * (w - 2 * m)  # noqa: E731
    Y = lambda v: h - m - (float(v) - lo) / (hi - lo) * (h - 2 * m)  # noqa: E731
    for x in range(int(X(0)), int(X(len(c["mean"]) - 1)) + 1):  # the confidence band, column by column
        t = (x - m) / (w - 2 * m) * (n - 1)
        i = min(int(t), len(c["mean"]) - 2) if len(c["mean"]) > 1 else 0
        a, b = band_lo[i:i + 2], band_hi[i:i + 2]
        if len(a) == 2 and np.isfinite(a).all() and np.isfinite(b).all():
            f = t - i
            y_lo, y_hi = Y(a[0] + f * (a[1] - a[0])), Y(b[0] + f * (b[1] - b[0]))
            img[int(round(y_hi)):int(round(y_lo)) + 1, x] = (0.78, 0.85, 0.96)
    for s in c["values"]:
        for i in range(len(s) - 1):
            _line(img, X(i), Y(s[i]), X(i + 1), Y(s[i + 1]), (0.6, 0.6, 0.6))
    for i in range(len(mean) - 1):
        if np.isfinite(mean[i:i + 2]).all():
            _line(img, X(i), Y(mean[i]), X(i + 1), Y(mean[i + 1]), (0.1, 0.25, 0.7), width=2)
    img[[0, -1], :] = img[:, [0, -1]] = 0.3
    return img


def curve_figure(path: str, group: Mapping[str, Any]) -> str:
    """Write the group's per-epoch curves (mean ± 95% CI over seeds) to ``path``; return the tool used."""
    from refmem.plotting import get_pyplot

    curves = group["curves"]
    plt = get_pyplot()
    if plt is None:
        from refmem.imageio import write_png

        panels = [_raster_panel(c) for c in curves.values()]
        gap = np.ones((panels[0].shape[0], 6, 3))
        write_png(path, np.concatenate([p if i == 0 else np.concatenate([gap, p], 1)
                                        for i, p in enumerate(panels)], 1))
        return "imageio"
    from refmem.plotting import save_figure

    fig, axes = plt.subplots(1, len(curves), figsize=(4.6 * len(curves), 3.4), squeeze=False)
    for ax, c in zip(axes[0], curves.values()):
        for seed, s in zip(c["seeds"], c["values"]):
            ax.plot(range(len(s)), s, color="0.65", lw=0.8)
        ep = np.array(c["epochs"])
        mean, lo, hi = _drawn_curve(c)
        ax.fill_between(ep, lo, hi, color="tab:blue", alpha=0.25, lw=0, label="95% CI")
        ax.plot(ep, mean, color="tab:blue", lw=2, label=f"mean of {len(c['seeds'])} seeds")
        ax.set_xlabel("epoch (0: before training)")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(c["label"], fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle(group_label(group), fontsize=10)
    save_figure(fig, path)
    return "matplotlib"


def _runs_table(runs: Sequence[Mapping[str, Any]], out_dir: str) -> str:
    head = "| run | role | status | time | criteria passed | note |\n|---|---|---|---|---|---|\n"
    body = []
    for r in runs:
        t = "-" if r.get("seconds") is None else format_seconds(r["seconds"])
        crit = "-" if r.get("total") in (None, 0) else f"{r['passed']}/{r['total']}"
        note = r.get("action") or ""
        if r["status"] == "failed":
            note = str(r.get("error")) + (f" (log: `{os.path.relpath(r['log'], out_dir)}`)" if r.get("log") else "")
        body.append(f"| {r['name']} | {r['role']} | {r['status']} | {t} | {crit} | {note} |")
    return head + "\n".join(body) + "\n"


def relative_paths(record: Mapping[str, Any], out_dir: str, keys=("log", "out")) -> Dict[str, Any]:
    """``record`` with its paths under ``out_dir`` written relative to it (the sweep folder
    then reads the same wherever it is moved or copied); other values unchanged.

    Examples
    --------
    >>> relative_paths({"log": "/s/run-a/run.log", "out": "/s/run-a", "seconds": 3.0}, "/s")
    {'log': 'run-a/run.log', 'out': 'run-a', 'seconds': 3.0}
    """
    base = os.path.abspath(out_dir)
    out = dict(record)
    for k in keys:
        v = out.get(k)
        if isinstance(v, str) and v and os.path.isabs(v):
            rel = os.path.relpath(v, base)
            if rel != os.pardir and not rel.startswith(os.pardir + os.sep):
                out[k] = rel
    return out


def write_summary(out_dir: str, info: Mapping[str, Any], runs: Sequence[Mapping[str, Any]],
                  groups: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """Write ``summary.json``, ``summary.md`` and ``figures/*.png`` into ``out_dir``; return the summary.

    ``info`` describes the sweep (command, executor, wall time, machine), ``runs`` holds
    one outcome per run (:func:`refmem.sweep.execute.execute` plus the run's identity),
    ``groups`` the statistics of :func:`refmem.sweep.aggregate.aggregate`.
    """
    os.makedirs(os.path.join(out_dir, "figures"), exist_ok=True)
    figures: List[str] = []
    for g in groups:
        if g["curves"]:
            rel = os.path.join("figures", f"{_slug(g)}-curves.png")
            g["figure"] = rel
            g["figure_tool"] = curve_figure(os.path.join(out_dir, rel), g)
            figures.append(rel)
    weak = [(g, c) for g in groups for c in g["criteria"] if c["status"] in ("fragile", "fails")]
    counts = {s: sum(r["status"] == s for r in runs) for s in ("done", "skipped", "failed")}
    summary = {**info, "counts": counts, "robust_rate": ROBUST_RATE,
               "runs": [relative_paths(r, out_dir) for r in runs], "groups": list(groups),
               "figures": figures,
               "fragile": [{"group": group_label(g), "id": c["id"], "n_passed": c["n_passed"], "n": c["n"],
                            "status": c["status"]} for g, c in weak]}
    save_json(os.path.join(out_dir, "summary.json"), summary)
    md = ["# Sweep summary\n",
          f"`{info.get('command', '')}`\n",
          f"- executor: {info.get('executor', '?')}; machine: {info.get('machine', '?')}",
          f"- runs: {len(runs)} ({counts['done']} run now, {counts['skipped']} finished before, "
          f"{counts['failed']} failed); wall time {format_seconds(info.get('wall_s', float('nan')))}",
          *([f"- summary rebuilt from the runs' results by `{info['rebuilt']['command']}` at "
             f"{info['rebuilt']['at']}"] if info.get("rebuilt") else []),
          f"- an effect is **fragile** when it passes in fewer than {ROBUST_RATE:.0%} of the seeds "
          f"(**fails**: in none); \"control passes\" counts the seeds in which the criterion's negative "
          f"control passed it (it must not)\n",
          "## Runs\n", _runs_table(runs, out_dir)]
    for g in groups:
        md += [f"## {group_label(g)} (seeds {', '.join(map(str, g['seeds']))})\n", _criteria_table(g)]
        if g["curves"]:
            md += ["Per-epoch curves, mean ± 95% CI over seeds (grey: each seed; epoch 0: before training; "
                   "the mean and band end where a run stopped early; rows with fewer seeds say so):\n",
                   f"![curves]({g['figure']})\n", _curve_table(g["curves"])]
    md.append("## Fragile effects\n")
    md += [f"- {group_label(g)}: {c['id']} ({c['effect']}) passes in {c['n_passed']}/{c['n']} seeds "
           f"({c['status']}); value {_mean_ci_text(c['stats'])}, paper {c['paper'] or '-'}" for g, c in weak] \
        or ["none: every effect passes in at least that share of the seeds"]
    with open(os.path.join(out_dir, "summary.md.tmp"), "w") as fh:
        fh.write("\n".join(md) + "\n")
    os.replace(os.path.join(out_dir, "summary.md.tmp"), os.path.join(out_dir, "summary.md"))
    return summary
