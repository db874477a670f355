"""``refmem run consolidation --vae FILE``: the analyses of a given VAE, without training (tiny scale)."""
import json
import os

import numpy as np
import pytest

from refmem.experiments.consolidation import CONFIGS, main, run
from refmem.experiments.consolidation.criteria import CRITERIA, measures
from refmem.experiments.consolidation.run import GIVEN_VAE_SKIPS
from refmem.neocortex import load_vae, mnist_vae


@pytest.fixture(scope="module")
def trained_and_given(tmp_path_factory, cache_env):
    """A tiny run that trains its VAE, and a second tiny run given that VAE with ``--vae``."""
    trained = str(tmp_path_factory.mktemp("trained"))
    res_trained = run(CONFIGS["tiny"], trained, quiet=True, preset="tiny")
    given = str(tmp_path_factory.mktemp("given"))
    assert main(["--config", "tiny", "--out", given, "--vae", os.path.join(trained, "vae.npz"), "--quiet"]) == 0
    with open(os.path.join(given, "results.json")) as fh:
        return trained, res_trained, given, json.load(fh)


def test_given_vae_skips_training_and_e3(trained_and_given):
    _, _, given, res = trained_and_given
    assert res["epochs_trained"] == 0 and "e3" not in res and "recon_loss" not in res
    assert "training" not in res["timings"]
    assert not os.path.exists(os.path.join(given, "vae.npz"))  # the given weights are never copied
    assert res["vae"]["trained"] is False and res["vae"]["architecture"] == "shapes3d"
    assert res["skipped_criteria"] == list(GIVEN_VAE_SKIPS)
    ids = [r["id"] for r in res["effects"]]
    assert ids == [c.id for c in CRITERIA if c.id not in GIVEN_VAE_SKIPS]
    assert all(r["control_result"] != "not run" for r in res["effects"])
    assert "training_curves.png" not in res["figures"] + res["skipped_figures"]
    for name in ("replay_samples.png", "recalls.png", "interpolations.png", "arithmetic.png", "imagination.png"):
        assert name in res["figures"] and os.path.isfile(os.path.join(given, name))
    report = open(os.path.join(given, "report.md")).read()
    assert "## The given VAE" in report and "| E3a |" not in report and "| E2a |" in report
    assert "## Per epoch" not in report


def test_given_vae_gives_the_trained_runs_analyses(trained_and_given):
    """The same VAE analysed after training and given with --vae: identical E1, E2, E4-E8 and controls,
    and the one-off held-out measurement equals the trained run's last epoch-start measurement."""
    _, res_trained, _, res = trained_and_given
    ours, theirs = measures(res), measures(res_trained)
    for k in ours:
        assert not k.startswith("e3")
        assert ours[k] == theirs[k], k
    assert {k for k in theirs if not k.startswith("e3")} == set(ours)
    for c in ("untrained", "identity", "constant"):
        assert measures(res, c) == {k: v for k, v in measures(res_trained, c).items() if not k.startswith("e3")}
    g = res["given_vae"]
    assert g["heldout_recon"] == pytest.approx(res_trained["heldout_recon"][-1], rel=1e-6)
    assert g["decoding_accuracy"] == pytest.approx(res_trained["decoding_accuracy"][-1], abs=1e-12)


def test_given_vae_in_memory(trained_and_given, tmp_path, cache_env):
    trained, _, _, res_file = trained_and_given
    res = run(CONFIGS["tiny"], str(tmp_path), quiet=True, vae=load_vae(os.path.join(trained, "vae.npz")))
    assert res["vae"]["source"] == "given in memory" and res["vae"]["path"] is None
    assert measures(res) == measures(res_file)


def test_given_vae_bad_inputs(tmp_path, capsys, cache_env):
    missing = str(tmp_path / "none.npz")
    assert main(["--config", "tiny", "--out", str(tmp_path / "a"), "--vae", missing, "--quiet"]) == 2
    assert "no such file" in capsys.readouterr().err
    path = str(tmp_path / "mnist.npz")
    mnist_vae(rng=np.random.default_rng(0)).save(path)
    assert main(["--config", "tiny", "--out", str(tmp_path / "b"), "--vae", path, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "(64, 64, 3)" in err and "(28, 28, 1)" in err
    assert not os.path.exists(tmp_path / "b" / "replay.npz")  # checked before any work
    with pytest.raises(TypeError, match="vae_path"):
        run(CONFIGS["tiny"], str(tmp_path / "c"), quiet=True, vae_path=3)


def test_rejudged_given_vae_run_keeps_e3_skipped(trained_and_given, tmp_path):
    import shutil

    _, _, given, res = trained_and_given
    out = str(tmp_path / "given")
    shutil.copytree(given, out)
    assert main(["--rejudge", "--out", out, "--quiet"]) == 0
    with open(os.path.join(out, "results.json")) as fh:
        again = json.load(fh)
    assert again["effects"] == res["effects"] and not any(r["id"].startswith("E3") for r in again["effects"])
    assert "Skipped: E3a, E3b, E3c, E3d" in open(os.path.join(out, "report.md")).read()
