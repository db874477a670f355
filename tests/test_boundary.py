"""`refmem run boundary` (E11): criteria with their control, the held-out cubes, outputs, bad input."""
import json
import os

import numpy as np

from refmem.experiments.boundary import CONFIGS, CRITERIA, PAPER_MEDIANS, main, measures
from refmem.experiments.boundary.run import held_out_cubes
from refmem.experiments.criteria import evaluate

ZOOMS = [80, 85, 90, 95, 100, 105, 110, 115, 120]


def test_paper_medians_pass():
    change = np.array([[PAPER_MEDIANS[z]] * 5 for z in ZOOMS])
    rows = evaluate(CRITERIA, measures(ZOOMS, change), {})
    assert all(r["passed"] for r in rows)


def test_no_regression_to_the_typical_framing_fails():
    rng = np.random.default_rng(0)
    flat = rng.normal(0, 0.05, (9, 101))  # changes that do not depend on zoom
    flat -= np.median(flat, axis=1, keepdims=True)  # every median exactly 0
    rows = evaluate(CRITERIA, measures(ZOOMS, flat), {})
    assert not any(r["passed"] for r in rows)
    shrink_all = np.full((9, 3), -0.1)  # everything recalled smaller: no contraction at 80%
    ok = {r["id"]: r["passed"] for r in evaluate(CRITERIA, measures(ZOOMS, shrink_all), {})}
    assert ok["E11a"] is False and ok["E11d"] is False


def test_held_out_cubes_condition():
    x, lab = held_out_cubes(12, np.random.default_rng(0), supersample=1)
    assert x.shape == (12, 64, 64, 3) and x.dtype == np.float32
    assert np.all(lab[:, 4] == 0) and np.all(lab[:, 2] != lab[:, 0]) and np.all(lab[:, 2] != lab[:, 1])
    np.testing.assert_allclose(x * 255, np.round(x * 255), atol=1e-3)  # 8-bit levels
    assert len({tuple(r) for r in lab}) == 12


def test_tiny_run_writes_outputs(tmp_path, small_shapes3d_vae_path):
    vae_path = small_shapes3d_vae_path
    out = str(tmp_path / "run")
    assert main(["--config", "tiny", "--vae", vae_path, "--out", out, "--quiet", "--set", "n_images=3"]) == 0
    res = json.load(open(os.path.join(out, "results.json")))
    assert res["per_image"]["zoom"] == [80, 100, 120] and len(res["per_image"]["h_in"][0]) == 3
    assert {r["id"] for r in res["criteria"]} == {"E11a", "E11b", "E11c", "E11d"}
    assert all(r["control_result"] != "not run" for r in res["criteria"])
    for f in ("report.md", "examples.png"):
        assert os.path.isfile(os.path.join(out, f))


def test_bad_input(tmp_path, capsys, small_shapes3d_vae_path):
    vae_path = small_shapes3d_vae_path
    assert main(["--config", "tiny", "--vae", vae_path, "--out", str(tmp_path), "--set", "zoom_levels=[90,110]"]) == 2
    assert "zoom_levels" in capsys.readouterr().err
    assert main(["--config", "tiny", "--vae", vae_path, "--out", str(tmp_path), "--set", "n_images=0"]) == 2
    assert main(["--config", "tiny", "--vae", str(tmp_path / "none.npz"), "--out", str(tmp_path)]) == 2
    assert set(CONFIGS) == {"quick", "paper", "tiny"}
