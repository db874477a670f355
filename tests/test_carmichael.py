"""`refmem run carmichael` (E14): criteria with their controls, the stimuli, outputs, bad input."""
import json
import os

import numpy as np
import pytest

from refmem.experiments.carmichael import CONFIGS, CRITERIA, main, make_stimuli, measures, square_position
from refmem.experiments.carmichael.criteria import NO_CONTEXT, VAE_ONLY
from refmem.experiments.criteria import evaluate

CTX = (0, 2)


def _case():
    st = make_stimuli(CONFIGS["tiny"])
    return st["stimuli"].astype(np.float64), st["squares"]


def test_following_the_context_passes_and_controls_fail():
    x, sq = _case()
    cube, sphere = x.copy(), x.copy()
    cube[:, 50:60, 20:40] = 0.2  # the two contexts change the object differently; squares untouched
    sphere[:, 50:60, 20:40] = 0.8
    for arr in (cube, sphere):
        arr[sq] = x[sq]
    m = measures({0: cube, 2: sphere}, {0: np.zeros(4, int), 2: np.full(4, 2)}, x, sq, CTX)
    none = measures({0: x, 2: x}, {0: np.arange(4), 2: np.arange(4)}, x, sq, CTX)  # own shapes, same recall
    vae_only = measures({0: x * 0 + 0.5, 2: x * 0 + 0.5}, {0: np.zeros(4, int), 2: np.full(4, 2)}, x, sq, CTX)
    rows = evaluate(CRITERIA, m, {NO_CONTEXT: none, VAE_ONLY: vae_only})
    assert all(r["passed"] for r in rows)
    assert all(r["control_passed"] is False for r in rows)


def test_stimuli():
    st = make_stimuli(CONFIGS["tiny"])
    assert st["stimuli"].shape == (4, 64, 64, 3) and list(st["labels"][:, 4]) == [0, 1, 2, 3]
    assert np.all(st["labels"][:, [0, 1, 2, 3, 5]] == [1, 3, 2, 0, 7])
    np.testing.assert_allclose(st["stimuli"][st["squares"]], 1.0)  # opaque white
    for i in range(4):  # the square is seeded by the image: same image, same square
        assert tuple(st["positions"][i]) == square_position(st["clean"][i])
        outside = np.ones((64, 64), bool)
        yy, xx = np.ogrid[:64, :64]
        outside &= (xx - 32) ** 2 + (yy - 45) ** 2 > 15.5 ** 2
        outside &= ~st["squares"][i]
        np.testing.assert_allclose(st["stimuli"][i][outside], st["clean"][i][outside], atol=1e-6)
    assert not np.allclose(st["stimuli"][0], st["clean"][0])


def test_tiny_run_writes_outputs(tmp_path, small_shapes3d_vae_path):
    vae_path = small_shapes3d_vae_path
    out = str(tmp_path / "run")
    assert main(["--config", "tiny", "--vae", vae_path, "--out", out, "--quiet"]) == 0
    res = json.load(open(os.path.join(out, "results.json")))
    assert {r["id"] for r in res["criteria"]} == {"E14a", "E14b", "E14c"}
    assert set(res["predicted"]) >= {"stimuli", "no_context", "0", "2"}
    for f in ("report.md", "recalls.png"):
        assert os.path.isfile(os.path.join(out, f))


@pytest.mark.parametrize("setting,word", [("contexts=[0,0]", "contexts"), ("scale=9", "scale"),
                                          ("beta=0", "beta"), ("min_matches=5", "min_matches")])
def test_bad_settings(tmp_path, capsys, small_shapes3d_vae_path, setting, word):
    args = ["--config", "tiny", "--vae", small_shapes3d_vae_path, "--out", str(tmp_path), "--set", setting]
    assert main(args) == 2
    assert word in capsys.readouterr().err
    assert set(CONFIGS) == {"quick", "paper", "tiny"}
