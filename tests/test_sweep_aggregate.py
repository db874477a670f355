"""Statistics of a sweep across seeds against hand computation, and the summary it writes."""
import json
import math
import sys

import pytest

from refmem.sweep.aggregate import aggregate, mean_ci, status
from refmem.sweep.report import write_summary

T975 = {1: 12.706204736174698, 3: 3.182446305284263, 4: 2.7764451051977987}  # Student t, 97.5% quantile


def test_mean_ci_by_hand():
    r = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    sd = math.sqrt(sum((x - 3.0) ** 2 for x in range(1, 6)) / 4)  # sqrt(2.5)
    assert r["n"] == 5 and r["mean"] == 3.0 and r["sd"] == pytest.approx(sd, rel=1e-12)
    assert r["half_width"] == pytest.approx(T975[4] * sd / math.sqrt(5), rel=1e-9)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((3.0 - r["half_width"], 3.0 + r["half_width"]))


def test_mean_ci_drops_missing_values_and_small_samples():
    r = mean_ci([2.0, None, float("nan"), 4.0])
    assert r["n"] == 2 and r["mean"] == 3.0
    assert r["half_width"] == pytest.approx(T975[1] * math.sqrt(2.0) / math.sqrt(2), rel=1e-9)
    one = mean_ci([5.0])
    assert one["mean"] == 5.0 and one["sd"] is None and one["half_width"] is None
    assert mean_ci([None])["mean"] is None
    with pytest.raises(ValueError):
        mean_ci([1.0, 2.0], level=1.5)


def test_status_thresholds():
    assert [status(k, 5) for k in (5, 4, 3, 1, 0)] == ["holds", "mostly", "fragile", "fragile", "fails"]
    assert [status(k, 3) for k in (3, 2, 0)] == ["holds", "fragile", "fails"]


def _row(cid, value, passed, control_passed=False):
    return {"id": cid, "effect": f"effect {cid}", "rule": f"m_{cid} > 0", "paper": "0.5", "value": value,
            "passed": passed, "control": "untrained", "control_value": 0.0, "control_passed": control_passed}


def _members():
    a = [1.0, 2.0, 3.0, 4.0, 5.0]
    pa = [True, True, True, True, False]
    pb = [True, True, True, False, False]
    curves = [[3.0, 2.0, 1.0], [5.0, 4.0], [4.0, 3.0, 2.0], [4.0, 3.0, 1.5], [4.0, 3.0, 1.5]]
    out = []
    for seed in range(5):
        rows = [_row("A", a[seed], pa[seed]), _row("B", 10.0 * seed, pb[seed], control_passed=seed == 0),
                _row("C", None if seed == 2 else -1.0, None if seed == 2 else False)]
        res = {"effects": rows, "heldout_recon": curves[seed], "decoding_accuracy": [0.25] * len(curves[seed])}
        out.append(({"experiment": "consolidation", "preset": "tiny", "overrides": [], "seed": seed}, res))
    out.append(({"experiment": "consolidation", "preset": "tiny", "overrides": ["epochs=1"], "seed": 0},
                {"effects": [_row("A", 9.0, True)]}))
    return out


def test_aggregate_by_hand():
    groups = aggregate(_members())
    assert [(g["preset"], g["overrides"]) for g in groups] == [("tiny", []), ("tiny", ["epochs=1"])]
    g = groups[0]
    assert g["seeds"] == [0, 1, 2, 3, 4]
    a, b, c = g["criteria"]
    assert (a["n"], a["n_passed"], a["pass_rate"], a["status"]) == (5, 4, 0.8, "mostly")
    assert a["stats"]["mean"] == 3.0
    assert a["stats"]["half_width"] == pytest.approx(T975[4] * math.sqrt(2.5) / math.sqrt(5))
    assert a["paper"] == "0.5" and a["rule"] == "m_A > 0"
    assert (b["n_passed"], b["status"], b["control_passes"], b["control_runs"]) == (3, "fragile", 1, 5)
    sd_b = math.sqrt(sum((10.0 * s - 20.0) ** 2 for s in range(5)) / 4)
    assert b["stats"]["mean"] == 20.0 and b["stats"]["sd"] == pytest.approx(sd_b)
    assert (c["n"], c["n_measured"], c["n_passed"], c["status"], c["stats"]["n"]) == (5, 4, 0, "fails", 4)
    assert groups[1]["criteria"][0]["stats"] == {"n": 1, "mean": 9.0, "sd": None, "ci_low": None, "ci_high": None,
                                                 "half_width": None}


def test_aggregate_curves_by_hand():
    cur = aggregate(_members())[0]["curves"]["heldout_recon"]
    assert cur["epochs"] == [0, 1, 2] and cur["n"] == [5, 5, 4]
    assert cur["mean"][0] == 4.0 and cur["mean"][2] == pytest.approx(1.5)
    sd0 = math.sqrt(sum((x - 4.0) ** 2 for x in (3.0, 5.0, 4.0, 4.0, 4.0)) / 4)
    assert cur["ci_high"][0] - cur["mean"][0] == pytest.approx(T975[4] * sd0 / math.sqrt(5))
    sd2 = math.sqrt(sum((x - 1.5) ** 2 for x in (1.0, 2.0, 1.5, 1.5)) / 3)
    assert cur["ci_high"][2] - cur["mean"][2] == pytest.approx(T975[3] * sd2 / 2, rel=1e-9)


@pytest.mark.parametrize("matplotlib", [True, False])
def test_summary_files(tmp_path, monkeypatch, matplotlib):
    if matplotlib:
        pytest.importorskip("matplotlib")
    else:
        monkeypatch.setitem(sys.modules, "matplotlib", None)
        monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    from refmem.imageio import read_png

    groups = aggregate(_members())
    runs = [{"name": f"r{i}", "role": "requested", "status": "done", "seconds": 1.0, "passed": 1, "total": 3,
             "log": str(tmp_path / f"r{i}" / "run.log"), "action": "new"} for i in range(5)]
    runs.append({"name": "bad", "role": "requested", "status": "failed", "seconds": 0.5, "passed": 0, "total": 0,
                 "log": str(tmp_path / "bad" / "run.log"), "error": "RuntimeError: boom", "action": "new"})
    s = write_summary(str(tmp_path), {"command": "refmem sweep x", "executor": "test", "wall_s": 3.0}, runs, groups)
    assert s["counts"] == {"done": 5, "skipped": 0, "failed": 1}
    assert [(f["id"], f["status"]) for f in s["fragile"]] == [("B", "fragile"), ("C", "fails")]
    md = (tmp_path / "summary.md").read_text()
    assert "| A | effect A (`m_A > 0`) | 0.5 | 3 ± 1.963 | 1.581 | 4/5 | mostly | 0/5 |" in md
    assert "**fragile**" in md and "RuntimeError: boom (log: `bad/run.log`)" in md
    assert "| 2 | 1.5 ± " in md and "(4 of 5 seeds) |" in md  # epoch 2: one run stopped early
    assert json.loads((tmp_path / "summary.json").read_text())["groups"][0]["criteria"][0]["n_passed"] == 4
    img = read_png(str(tmp_path / s["figures"][0]))
    assert img.ndim == 3 and img.shape[0] > 100
    assert groups[0]["figure_tool"] == ("matplotlib" if matplotlib else "imageio")


def test_curve_mean_is_drawn_only_where_every_seed_contributes():
    import numpy as np

    from refmem.sweep.report import _raster_panel

    cur = aggregate(_members())[0]["curves"]["heldout_recon"]  # 5, 5 and 4 seeds at epochs 0-2
    img = _raster_panel(cur)  # epoch 1 at column 160 of 320
    for colour in ((0.1, 0.25, 0.7), (0.78, 0.85, 0.96)):  # the mean line, the band
        px = np.all(np.isclose(img, colour), axis=-1)
        assert px[:, 20:150].any() and not px[:, 170:].any()


def test_curve_drawn_where_every_run_reached_the_epoch():
    import numpy as np

    from refmem.sweep.report import _drawn_curve, _every_seed

    cur = aggregate(_members())[0]["curves"]["heldout_recon"]  # 5, 5 and 4 seeds at epochs 0-2
    mean, lo, hi = _drawn_curve(cur)  # what both figures draw
    assert np.isfinite(mean[:2]).all() and np.isfinite(lo[:2]).all() and np.isnan([mean[2], lo[2], hi[2]]).all()
    gap = dict(cur, values=[[3.0, float("nan"), 1.0]] + cur["values"][1:])  # a run with a missing value
    assert _every_seed(gap) == [True, True, False]  # reached all the same: not an early stop
