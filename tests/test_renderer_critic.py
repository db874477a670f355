"""The renderer-critic benchmark: its 1-NN measure and a tiny run (not the figures, which
need the paper's released weights)."""
import json

import numpy as np
import pytest

from refmem.benchmarks import renderer_critic as bench
from refmem.datasets import shapes3d
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
    assert res["n"] == 12 and res["default_version"] == shapes3d.RENDERER_VERSION
    assert sorted(res["versions"]) == [str(v) for v in shapes3d.RENDERER_VERSIONS]  # all versions by default
    for v, r in res["versions"].items():
        assert r["renderer_version"] == int(v) and r["recon_error"]["median"] > 0 and 0 <= r["shape_1nn"] <= 1
        assert len(r["worst"]) == 12 and (out / f"worst_v{v}.png").stat().st_size > 0
    a, b = (res["versions"][str(v)] for v in shapes3d.RENDERER_VERSIONS[:2])
    assert a["recon_error"]["median"] != b["recon_error"]["median"]  # the versions render differently
    assert "| measure | v1 | v2 |" in text                            # side by side


def test_one_version_and_bad_version(tmp_path, capsys):
    vae_path = tmp_path / "vae.npz"
    shapes3d_vae(rng=0, widths=(4, 4, 8, 8)).save(vae_path)
    v = shapes3d.RENDERER_VERSIONS[-1]
    one = bench.run(str(vae_path), n=6, supersample=1, version=v)
    assert one["renderer_version"] == v and one["_worst_images"].shape == (12, 64, 64, 3)
    default = bench.run(str(vae_path), n=6, supersample=1)
    assert default["renderer_version"] == shapes3d.RENDERER_VERSION
    with pytest.raises(SystemExit):
        bench.main(["--vae", str(vae_path), "--n", "6", "--renderer", "99"])
    assert "not a renderer version" in capsys.readouterr().err
