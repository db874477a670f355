"""`refmem run extended`: outputs, config handling and the VAE-training path
(refmem.experiments.extended.cli / experiment / report), with a small untrained VAE."""
import json
import os

import numpy as np
import pytest

from refmem.experiments.trained_vae import vae_cache_dir

import refmem.experiments.extended as ext
from refmem.cli import main as refmem_main
from refmem.experiments.extended import CONFIGS, ExtendedConfig, main, run
from refmem.neocortex import shapes3d_vae


@pytest.fixture(scope="module")
def vae_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("vae") / "vae.npz")
    shapes3d_vae(rng=0, dtype=np.float32, widths=(8, 8, 16, 16)).save(path)
    return path


def test_module_exports():
    assert callable(ext.main) and callable(ext.run) and isinstance(ext.DESCRIPTION, str)
    assert set(CONFIGS) == {"quick", "paper", "tiny"}


def test_tiny_run_writes_outputs(tmp_path, vae_path):
    out = str(tmp_path / "run")
    rc = main(["--config", "tiny", "--vae", vae_path, "--out", out, "--seed", "3", "--quiet",
               "--set", "n_items=6", "--set", "thresholds=[0.01, 0.1, 0.2]"])
    assert rc == 0  # the run completed; the criteria's verdicts are in the results
    res = json.load(open(os.path.join(out, "results.json")))
    assert res["config"]["n_items"] == 6 and res["config"]["seed"] == 3
    assert res["passed"] == all(c["passed"] is True for c in res["criteria"])
    from refmem.experiments.extended.criteria import CRITERIA

    assert [c["id"] for c in res["criteria"]] == [c.id for c in CRITERIA]
    assert all(c["control_result"] != "not run" for c in res["criteria"])  # every control swept in the run
    assert set(res["controls"]) == {"untrained", "blend", "vae_only", "store_all"}
    s = res["summary"]
    assert s["sweep"]["thresholds"] == [0.01, 0.1, 0.2]
    assert [r["threshold"] for r in s["per_threshold"]] == [0.01, 0.03, 0.1, 0.15, 0.2]
    assert len(res["per_item"]["sse"]) == 5 and len(res["per_item"]["sse"][0]) == 6
    for f in res["figures"]:
        assert os.path.getsize(os.path.join(out, f)) > 0
    assert "recall_stages_t0.03.png" in res["figures"] and "recall_stages_t0.15.png" in res["figures"]
    from refmem.plotting import get_pyplot

    if get_pyplot() is None:
        assert res["skipped_figures"] == ["error_vs_threshold.png"]
    else:
        assert "error_vs_threshold.png" in res["figures"]
    from refmem.imageio import read_png

    grid = read_png(os.path.join(out, "recall_stages_t0.03.png"))
    assert grid.shape[1] == 2 * (6 * 66 + 2)  # six stages per row, scale 2
    report = open(os.path.join(out, "report.md")).read()
    assert "| id | effect | rule | paper | this run |" in report and "20.4" in report and "`untrained`" in report
    text = open(os.path.join(out, "results.json")).read()
    assert "NaN" not in text and "Infinity" not in text


def test_registry_and_bad_arguments(tmp_path, vae_path):
    out = str(tmp_path / "r")
    assert refmem_main(["run", "extended", "--config", "tiny", "--vae", vae_path, "--out", out,
                        "--quiet", "--set", "n_items=3"]) == 0
    assert os.path.exists(os.path.join(out, "report.md"))
    assert main(["--config", "tiny", "--set", "no_such_key=1", "--vae", vae_path]) == 2
    with pytest.raises(SystemExit):
        main(["--config", "huge"])
    with pytest.raises(ValueError, match="image_size"):
        run(ExtendedConfig(n_items=2, image_size=48), str(tmp_path / "x"), vae_path=vae_path, verbose=False)
    with pytest.raises(ValueError, match="no such file"):
        run(CONFIGS["tiny"], str(tmp_path / "y"), vae_path=str(tmp_path / "missing.npz"), verbose=False)
    with pytest.raises(ValueError, match="thresholds"):
        run(ExtendedConfig(thresholds=(-0.1, 0.1)), str(tmp_path / "z"), vae_path=vae_path, verbose=False)


def test_without_vae_trains_one_via_consolidation(tmp_path, vae_path, monkeypatch):
    """No --vae: the VAE comes from the consolidation run of the preset (same seed), trained once into
    the user cache and reused by the next run (consolidation's run is stubbed: its own tests cover it)."""
    import shutil

    import refmem.experiments.consolidation as cons

    calls = []

    def fake_run(config, out_dir, **kw):
        calls.append((config, out_dir))
        os.makedirs(out_dir, exist_ok=True)
        shutil.copy(vae_path, os.path.join(out_dir, "vae.npz"))
        with open(os.path.join(out_dir, "results.json"), "w") as f:
            f.write("{}")
        return {}

    monkeypatch.setattr(cons, "run", fake_run)
    monkeypatch.setenv("REFMEM_CACHE_DIR", str(tmp_path / "cache"))
    out = str(tmp_path / "t")
    cfg = ExtendedConfig(n_items=2, n_figure_items=1, vae_preset="tiny")
    res = run(cfg, out, verbose=False)
    assert len(calls) == 1 and calls[0][0] == cons.CONFIGS["tiny"]
    assert calls[0][1] == vae_cache_dir("tiny", 0) and res["vae"]["trained"]
    assert calls[0][1].startswith(str(tmp_path / "cache"))
    res2 = run(cfg, out, verbose=False)
    assert len(calls) == 1 and not res2["vae"]["trained"]
    # same seed, same VAE: the same numbers
    assert res2["per_item"]["sse"] == res["per_item"]["sse"]
    with pytest.raises(ValueError, match="vae preset"):
        run(ExtendedConfig(n_items=2, vae_preset="nope"), str(tmp_path / "u"), verbose=False)
