"""End-to-end tests of the consolidation simulation at tiny scale (seconds), resume
determinism, and the CLI. Unit tests of the pieces are in test_consolidation_units.py;
the quick config's paper effects are checked by the slow test at the bottom."""
import dataclasses
import json
import os

import numpy as np
import pytest

from refmem._utils import load_npz
from refmem.datasets import shapes3d
from refmem.experiments.consolidation import CONFIGS, main, run
from refmem.systems.consolidation import RunInterrupted
from refmem.imageio import read_png

ARRAY_KEYS = ("loss", "recon_loss", "kl", "heldout_recon", "decoding_accuracy")
ANALYSES = ("e2", "e3", "e4", "e5", "e6", "e7", "e8")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, cache_env):
    """One uninterrupted tiny run through the CLI."""
    out = str(tmp_path_factory.mktemp("tiny"))
    assert main(["--config", "tiny", "--out", out, "--quiet"]) == 0
    return out


def _load(out):
    with open(os.path.join(out, "results.json")) as fh:
        return json.load(fh)


def test_outputs_exist_and_are_well_formed(tiny_run):
    out = tiny_run
    res = _load(out)
    for key in ("config", "versions", "timings", "replay", "figures", "skipped_figures", "effects") + ARRAY_KEYS:
        assert key in res, key
    for key in ANALYSES:
        assert isinstance(res[key], dict) and "arrays" not in res[key]
    assert set(res["versions"]) == {"python", "numpy", "scipy", "refmem", "shapes3d_renderer", "blas_threads"}
    assert res["versions"]["shapes3d_renderer"] in shapes3d.RENDERER_VERSIONS
    assert {"render", "replay", "training", "e2", "e8", "total"} <= set(res["timings"])
    cfg = CONFIGS["tiny"]
    n_ep = res["epochs_trained"]
    assert 1 <= n_ep <= cfg.epochs
    assert len(res["recon_loss"]) == n_ep and len(res["decoding_accuracy"]) == n_ep + 1
    assert len(res["heldout_recon"]) == n_ep + 1
    assert all(np.isfinite(res["recon_loss"])) and all(0 <= a <= 1 for a in res["decoding_accuracy"])
    rp = res["replay"]
    assert rp["n_replay"] == cfg.n_memories and 1 <= rp["distinct_memories"] <= cfg.n_memories
    assert 0 <= rp["fraction_converged"] <= 1
    assert sum(rp["replay_count_histogram"].values()) == cfg.n_memories
    # every paper effect has a row with a verdict
    ids = [r["id"] for r in res["effects"]]
    from refmem.experiments.consolidation.criteria import CRITERIA

    assert ids == [c.id for c in CRITERIA]
    assert all(r["result"] in ("PASS", "FAIL", "n/a") for r in res["effects"])
    # every control is computed in the run; none passes its criterion where measured
    assert all(r["control_result"] != "not run" for r in res["effects"])
    report = open(os.path.join(out, "report.md")).read()
    assert "| E3a |" in report and "| E8a |" in report and "## Per epoch" in report
    assert "control's value" in report and "`untrained`" in report
    assert len(res["e7"]["diagnostics"]["latent_sd"]) == cfg.latent_dim and "Imagination diagnostic (E7)" in report
    # peak resident memory, and the stage by which it was reached
    assert res["peak_rss_bytes"] > 0 and set(res["peak_rss_bytes_after"]) >= {"replay", "training", "e8"}
    assert res["peak_rss_bytes"] == max(res["peak_rss_bytes_after"].values())
    assert "## Memory" in report and "Peak resident memory of the process" in report
    # figures: listed ones exist and decode; skipped ones are matplotlib figures
    for name in res["figures"]:
        img = read_png(os.path.join(out, name))
        assert img.ndim == 3 and img.shape[2] in (3, 4) and img.shape[0] > 60  # RGB grids, RGBA plots
    for name in ("replay_samples.png", "recalls.png", "interpolations.png", "arithmetic.png", "imagination.png"):
        assert name in res["figures"]
    assert set(res["figures"]).isdisjoint(res["skipped_figures"])
    with open(os.path.join(out, "config.json")) as fh:
        assert json.load(fh)["n_memories"] == cfg.n_memories


def test_saved_model_loads(tiny_run):
    from refmem.neocortex import load_vae

    vae = load_vae(os.path.join(tiny_run, "vae.npz"))
    ckpt = load_npz(os.path.join(tiny_run, "checkpoint.npz"))
    for k, v in vae.get_state().items():
        np.testing.assert_array_equal(v, ckpt[f"state.{k}"])
    assert vae.latent_dim == CONFIGS["tiny"].latent_dim


def test_resume_is_bit_identical(tiny_run, tmp_path, cache_env):
    cfg = CONFIGS["tiny"]
    out = str(tmp_path / "resumed")
    with pytest.raises(RunInterrupted):
        run(cfg, out, quiet=True, preset="tiny", stop_after_epoch=1)
    assert os.path.exists(os.path.join(out, "checkpoint.npz")) and not os.path.exists(os.path.join(out, "vae.npz"))
    res = run(cfg, out, quiet=True, preset="tiny", resume=True)
    assert res["resumed"] and res["replay_from_cache"]
    with open(os.path.join(out, "report.md")) as fh:  # the report counts the epochs of both processes
        assert f"its {len(res['epoch_seconds'])} training epochs took" in fh.read()
    ref = _load(tiny_run)
    got = _load(out)
    for k in ARRAY_KEYS:
        assert got[k] == ref[k], k  # exact float equality (JSON round trip is exact)
    for k in ("e2", "e4", "e5", "e6", "e7", "e8", "replay"):
        assert got[k] == ref[k], k
    a, b = load_npz(os.path.join(tiny_run, "vae.npz")), load_npz(os.path.join(out, "vae.npz"))
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_within_epoch_measurements_leave_training_unchanged(tiny_run, tmp_path, cache_env):
    """Measuring after every step of both tiny epochs (with an interruption between them)
    trains the same weights; the measurement after an epoch's last step is the next
    epoch-start measurement."""
    cfg = dataclasses.replace(CONFIGS["tiny"], within_epoch_every=1, within_epoch_epochs=2)
    out = str(tmp_path / "within")
    with pytest.raises(RunInterrupted):
        run(cfg, out, quiet=True, preset="tiny", stop_after_epoch=1)
    res = run(cfg, out, quiet=True, preset="tiny", resume=True)
    ref = _load(tiny_run)
    for k in ARRAY_KEYS:
        assert res[k] == ref[k], k
    a, b = load_npz(os.path.join(tiny_run, "vae.npz")), load_npz(os.path.join(out, "vae.npz"))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    w = res["within_epoch"]
    steps = w["steps_per_epoch"]
    assert steps == 2 and w["epoch"] == [0, 0, 1, 1] and w["step"] == [1, 2, 1, 2]
    assert w["decoding_accuracy"][1] == res["decoding_accuracy"][1] and w["heldout_recon"][3] == res["heldout_recon"][2]
    assert "### Within the first epochs" in open(os.path.join(out, "report.md")).read()
    assert "within_epoch" not in ref


def test_checkpoint_without_within_epoch_history_resumes(tiny_run, tmp_path, cache_env):
    """A checkpoint written without the within-epoch history lists (as older versions wrote
    them) resumes to the same weights."""
    from refmem._utils import save_npz

    out = str(tmp_path / "old")
    with pytest.raises(RunInterrupted):
        run(CONFIGS["tiny"], out, quiet=True, preset="tiny", stop_after_epoch=1)
    path = os.path.join(out, "checkpoint.npz")
    d = load_npz(path)
    assert any(k.startswith("history.within_") for k in d)
    save_npz(path, {k: v for k, v in d.items() if not k.startswith("history.within_")})
    run(CONFIGS["tiny"], out, quiet=True, preset="tiny", resume=True)
    a, b = load_npz(os.path.join(tiny_run, "vae.npz")), load_npz(os.path.join(out, "vae.npz"))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_resume_with_other_config_is_refused(tiny_run, cache_env):
    cfg = dataclasses.replace(CONFIGS["tiny"], seed=1)
    with pytest.raises(ValueError, match="cannot resume"):
        run(cfg, tiny_run, quiet=True, resume=True)


def test_cli_interrupt_then_resume_uses_saved_config(tmp_path, cache_env, capsys):
    out = str(tmp_path / "cli")
    assert main(["--config", "tiny", "--out", out, "--quiet", "--stop-after-epoch", "1"]) == 130
    assert "--resume" in capsys.readouterr().err
    assert main(["--out", out, "--resume"]) == 0  # no --config: the folder's config.json is used
    text = capsys.readouterr().out
    assert "resuming" in text and "resumed from" in text and "paper effects pass" in text
    assert "config tiny," in text  # the preset is recognised from the saved config
    assert "config `tiny`" in open(os.path.join(out, "report.md")).read()


@pytest.mark.parametrize("argv, message", [
    (["--set", "no_such_key=1"], "unknown config key"),
    (["--set", "epochs=many"], "expected an integer"),
    (["--set", "epochs"], "key=value"),
    (["--set", "n_memories=0"], "positive integer"),
    (["--set", "probe_train=1000"], "must not exceed n_heldout"),
    (["--set", "within_epoch_every=-1"], "non-negative integer"),
    (["--set", "within_epoch_every=5", "--set", "within_epoch_epochs=0"], "within_epoch_epochs must be >= 1"),
])
def test_cli_bad_values(argv, message, tmp_path, capsys):
    assert main(["--config", "tiny", "--out", str(tmp_path / "x")] + argv) == 2
    assert message in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "x")


def test_cli_bad_preset(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--config", "huge"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_registered_in_refmem_cli(capsys):
    from refmem.cli import main as refmem_main

    assert refmem_main(["list"]) == 0
    out = capsys.readouterr().out
    assert "quick" in out and "paper" in out and "tiny" in out


def test_rejudge_keeps_the_numbers_and_judges_again(tiny_run, tmp_path, capsys):
    import shutil

    out = str(tmp_path / "run")
    shutil.copytree(tiny_run, out)
    before = _load(out)
    assert main(["--rejudge", "--out", out, "--quiet"]) == 0
    assert "changed from the run's own verdicts: none" in capsys.readouterr().out
    same = _load(out)
    assert same["effects"] == before["effects"]
    assert {k: v for k, v in same.items() if k not in ("effects", "rejudged")} == \
        {k: v for k, v in before.items() if k != "effects"}
    # a number that moves E4b across its threshold changes that verdict, and only that one
    res = _load(out)
    e4b_passed = {r["id"]: r["result"] for r in before["effects"]}["E4b"] == "PASS"
    res["e4"]["knn_agreement_pixels"] = res["e4"]["knn_agreement_mu"] - (0.0 if e4b_passed else 0.5)
    with open(os.path.join(out, "results.json"), "w") as fh:
        json.dump(res, fh)
    assert main(["--rejudge", "--out", out, "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "changed from the run's own verdicts: E4b" in text
    after = _load(out)
    changed = [r["id"] for r, b in zip(after["effects"], before["effects"]) if r["result"] != b["result"]]
    assert changed == ["E4b"]
    assert after["rejudged"]["results_as_run"] == {r["id"]: r["result"] for r in before["effects"]}
    assert "judged again" in open(os.path.join(out, "report.md")).read()


@pytest.mark.parametrize("argv, message", [
    (["--rejudge"], "needs --out"),
    (["--rejudge", "--seed", "1", "--out", "x"], "not --seed"),
    (["--rejudge", "--seed", "0", "--out", "x"], "not --seed"),
    (["--rejudge", "--out", "no_such_folder"], "no results.json"),
])
def test_rejudge_bad_use(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_quick_config_shows_the_effects(tmp_path):
    """The quick config shows consolidation (loss falls >= 3x, accuracy rises
    with epoch (Spearman > 0.5) and ends >= 0.6). Minutes; run with -m slow."""
    res = run(CONFIGS["quick"], str(tmp_path / "quick"), quiet=True, preset="quick")
    e3 = res["e3"]
    assert e3["loss_ratio"] >= 3.0
    assert e3["accuracy_spearman"] > 0.5
    assert e3["accuracy_final"] >= 0.6
    assert res["replay"]["fraction_converged"] >= 0.95
