"""The renderer-critic benchmark: its 1-NN measure and a tiny run (not the figures, which
need the paper's released weights)."""
import json

import numpy as np

from refmem.benchmarks import renderer_critic as bench
from refmem.neocortex import shapes3d_vae


def test_loo_1nn_accuracy():
    f = np.array([[0.0], [0.1], [5.0], [5.1], [10.0]])
    assert bench.loo_1nn_accuracy(f, np.array([0, 0, 1, 1, 0])) == 0.8  # the isolated point misses
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 400)
    assert bench.loo_1nn_accuracy(rng.standard_normal((400, 5)), labels) < 0.4  # chance 0.25
    assert bench.loo_1nn_accuracy(labels[:, None] * 10.0 + rng.standard_normal((400, 1)), labels) == 1.0


def test_tiny_run_writes_results(tmp_path, capsys):
    vae_path = tmp_path / "vae.npz"
    shapes3d_vae(rng=0, widths=(4, 4, 8, 8)).save(vae_path)
    out = tmp_path / "out"
    assert bench.main(["--vae", str(vae_path), "--n", "12", "--supersample", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "median" in text and "1-NN" in text
    res = json.loads((out / "results.json").read_text())
    assert res["n"] == 12 and res["recon_error"]["median"] > 0 and 0 <= res["shape_1nn"] <= 1
    assert len(res["worst"]) == 12 and (out / "worst.png").stat().st_size > 0
