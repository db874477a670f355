"""`refmem run prototypes` (E10): criteria with their controls, outputs, bad input."""
import json
import os

import numpy as np
import pytest

from refmem.experiments.criteria import evaluate
from refmem.experiments.prototypes import CONFIGS, CRITERIA, main, measures
from refmem.experiments.prototypes.criteria import CONTROL, UNTRAINED
from refmem.experiments.prototypes.run import split_digits
from refmem.neocortex import mnist_vae


def _digits(n_per_class=12, seed=0):
    """Three synthetic 'classes' of 6x6 images: a class template plus per-image noise."""
    rng = np.random.default_rng(seed)
    templates = rng.random((3, 6, 6, 1))
    labels = np.repeat(np.arange(3), n_per_class)
    x = np.clip(templates[labels] + rng.normal(0, 0.2, (len(labels), 6, 6, 1)), 0, 1)
    return x, labels, templates


def _rows(recalls, x, labels):
    return {r["id"]: r for r in evaluate(CRITERIA, measures(x, recalls, labels), {})}


def test_prototype_pull_passes_every_criterion():
    x, labels, templates = _digits()
    recalls = 0.3 * x + 0.7 * templates[labels]  # pulled towards the class prototype
    rows = _rows(recalls, x, labels)
    assert all(r["passed"] for r in rows.values()), rows


def test_identity_control_fails_the_variance_rules():
    x, labels, _ = _digits()
    m = measures(x, x, labels)
    assert m["p_value"] == 1.0 and m["cohens_d"] == 0.0
    rows = evaluate(CRITERIA, measures(x, 0.3 * x + 0.7 * x.mean(0), labels), {CONTROL: m})
    for r in rows:
        if r["control"] == CONTROL:
            assert r["control_passed"] is False


def test_constant_decoder_fails_the_class_rule():
    x, labels, _ = _digits()
    const = np.broadcast_to(x.mean(0), x.shape)
    rows = _rows(const, x, labels)
    assert rows["E10a"]["passed"] and rows["E10c"]["passed"]  # shrinking variance alone is not enough
    assert rows["E10e"]["passed"] is False
    assert [c.control for c in CRITERIA if c.id == "E10e"] == [UNTRAINED]


def test_split_is_per_class_and_disjoint():
    labels = np.repeat(np.arange(10), 30)
    s = split_digits(labels, 20, np.random.default_rng(0))
    assert len(np.intersect1d(s["trained"], s["heldout"])) == 0
    assert np.all(np.bincount(labels[s["trained"]]) == 10) and np.all(np.bincount(labels[s["heldout"]]) == 10)


@pytest.fixture(scope="module")
def untrained_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("vae") / "mnist.npz")
    mnist_vae(rng=0).save(path)
    return path


def test_tiny_run_with_given_vae(tmp_path, untrained_path):
    out = str(tmp_path / "run")
    assert main(["--config", "tiny", "--vae", untrained_path, "--out", out, "--quiet"]) == 0
    res = json.load(open(os.path.join(out, "results.json")))
    assert res["measured_on"] == "all" and res["split"]["all"] == 200
    assert res["controls_fail"] is True
    rows = {r["id"]: r for r in res["criteria"]}
    assert rows["E10e"]["passed"] is False  # an untrained VAE does not keep the digits
    assert os.path.isfile(os.path.join(out, "recalls.png")) and os.path.isfile(os.path.join(out, "report.md"))
    assert "E10a" in open(os.path.join(out, "report.md")).read()


def test_tiny_run_trains_by_replay(tmp_path):
    out = str(tmp_path / "run")
    assert main(["--config", "tiny", "--out", out, "--quiet", "--set", "n_per_class=8"]) == 0
    res = json.load(open(os.path.join(out, "results.json")))
    assert res["measured_on"] == "heldout" and res["vae"]["trained"]
    assert res["consolidation"]["replay"]["n_replay"] == 40
    assert os.path.isfile(os.path.join(out, "vae.npz"))


def test_bad_input(tmp_path, capsys, untrained_path):
    assert main(["--config", "tiny", "--out", str(tmp_path), "--set", "n_per_class=900"]) == 2
    assert "n_per_class" in capsys.readouterr().err
    assert main(["--config", "tiny", "--out", str(tmp_path), "--vae", str(tmp_path / "missing.npz")]) == 2
    assert main(["--config", "tiny", "--out", str(tmp_path), "--set", "measure_on=train"]) == 2
    assert set(CONFIGS) == {"quick", "paper", "tiny"}
