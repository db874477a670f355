"""Fast tests of the DRM experiment (refmem.experiments.drm) and its text-VAE loss."""
import json
import os

import numpy as np
import pytest
import scipy.sparse

from refmem import ModernHopfield, bow_vae
from refmem.config import apply_overrides, config_from_dict, config_to_dict
from refmem.datasets import drm
from refmem.experiments.criteria import evaluate
from refmem.experiments.drm import CONFIGS, DRMConfig, main, validate_config
from refmem.experiments.drm.corpus import decouple_stories, read_stories, synthetic_stories, vectorize
from refmem.experiments.drm.criteria import CRITERIA, measures
from refmem.experiments.drm.measure import corpus_stats, full_lists, list_length_curve
from refmem.experiments.drm.model import (N_IDS, hippocampus_only_recall_fn, hopfield_recall, id_queries,
                                          make_traces, prior_recall_fn, study_bags, vae_recall_fn)


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# --------------------------------------------------------------------------- text VAE loss
def _hand_loss(vae, x, eps):
    """mean BCE (Keras clipping) + 0.001 * KL averaged over latents and batch, by hand."""
    P = {k: v for k, v in vae.params.items()}
    mu = x @ P["encoder.mu.kernel"] + P["encoder.mu.bias"]
    lv = x @ P["encoder.log_var.kernel"] + P["encoder.log_var.bias"]
    z = mu + np.exp(lv / 2) * eps
    p = _sigmoid(z @ P["decoder.dense.kernel"] + P["decoder.dense.bias"])
    e = 1e-7
    pc = np.clip(p, e, 1 - e)
    bce = -np.mean(x * np.log(pc + e) + (1 - x) * np.log(1 - pc + e))
    kl = -0.5 * np.mean(1 + lv - mu ** 2 - np.exp(lv))
    return bce + 0.001 * kl, bce, kl


@pytest.fixture
def small_vae():
    rng = np.random.default_rng(3)
    vae = bow_vae(6, latent_dim=3, rng=1, dtype=np.float64)
    for v in vae.params.values():  # nonzero biases, larger weights: a generic point
        v += rng.normal(0, 0.3, v.shape)
    x = (rng.random((5, 6)) < 0.4).astype(np.float64)
    eps = rng.standard_normal((5, 3))
    return vae, x, eps


def test_text_vae_loss_is_mean_bce_plus_1e3_mean_kl(small_vae):
    vae, x, eps = small_vae
    got = vae.loss(x, eps=eps)
    total, bce, kl = _hand_loss(vae, x, eps)
    assert got["recon"] == pytest.approx(bce, rel=1e-12)
    assert got["kl"] == pytest.approx(kl, rel=1e-12)
    assert got["total"] == pytest.approx(total, rel=1e-12)
    assert vae.kl_weight == 1e-3 and vae.kl_reduction == "mean" and vae.recon == "bce"


def test_text_vae_gradients_match_central_differences(small_vae):
    vae, x, eps = small_vae
    _, grads = vae.loss_and_grads(x, eps=eps)
    h = 1e-6
    for name, p in vae.params.items():
        num = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + h
            up = _hand_loss(vae, x, eps)[0]
            p[i] = old - h
            down = _hand_loss(vae, x, eps)[0]
            p[i] = old
            num[i] = (up - down) / (2 * h)
        err = np.abs(num - grads[name]).max() / max(np.abs(num).max(), 1e-12)
        assert err < 1e-6, (name, err)


# --------------------------------------------------------------------------- traces, recall
def test_trace_layout():
    mu = np.arange(6, dtype=float).reshape(2, 3)
    t = make_traces(mu, vocab_size=5)
    assert t.shape == (2, 3 + 5 + N_IDS) and t.dtype == np.float64
    np.testing.assert_array_equal(t[:, :3], mu)
    ids = t[:, 3:]
    assert ids.sum() == 2 and ids[0, 5] == 1 and ids[1, 6] == 1  # slot V + n
    q = id_queries(t, 3)
    assert np.all(q[:, :3] == 0) and np.array_equal(q[:, 3:], t[:, 3:])
    with pytest.raises(ValueError, match="at most 20"):
        make_traces(np.zeros((21, 3)), 5)
    with pytest.raises(ValueError, match="vocab_size"):
        make_traces(mu, 0)


def test_recall_reaches_an_exact_fixed_point_at_the_cued_trace():
    rng = np.random.default_rng(0)
    mu = rng.normal(0, 0.5, (20, 16))
    t = make_traces(mu, 40)
    content, conv = hopfield_recall(t, 16, beta=100.0, max_iter=100)
    assert conv.all()
    net = ModernHopfield(100.0, normalize=False).store(t)
    state = np.concatenate([content, t[:, 16:]], axis=1)
    again = net.update(net.retrieve(id_queries(t, 16), max_iter=100))
    np.testing.assert_array_equal(again[:, :16], content)  # exact: one more update changes nothing
    np.testing.assert_allclose(content, mu, atol=1e-12)
    assert state.shape == t.shape


class _FixedRecall:
    """A recall function returning fixed probabilities (tests the p > 0.5 rule)."""

    def __init__(self, p):
        self.p = p

    def __call__(self, bags):
        return np.repeat(self.p[None], bags.shape[0], 0), np.ones(bags.shape[0], bool)


def test_recalled_means_p_strictly_above_one_half():
    voc = {w: i for i, w in enumerate(sorted(set(drm.LURES) | {w for ws in drm.DRM_LISTS.values() for w in ws}))}
    p = np.full(len(voc), 0.2)
    p[voc["sleep"]] = 0.5  # exactly 0.5: not recalled
    p[voc["cold"]] = np.nextafter(0.5, 1.0)  # just above: recalled
    for w in drm.DRM_LISTS["cold"]:
        p[voc[w]] = 0.9
    fl = full_lists(_FixedRecall(p), voc)
    by = {r["lure"]: r for r in fl["lists"]}
    assert not by["sleep"]["lure_recalled"] and by["cold"]["lure_recalled"]
    assert fl["lures_recalled"] == ["cold"]
    assert by["cold"]["n_studied_recalled"] == 15 and by["sleep"]["n_studied_recalled"] == 0
    # the cold associates are unstudied intrusions for every other list
    assert len(by["sleep"]["intrusions"]) == 16
    curve = list_length_curve(_FixedRecall(p), voc, [3, 15], 2, rng=0)
    assert curve["rate"] == [0.05, 0.05]  # the cold list only
    assert curve["n_trials"] == [40, 40]


def test_study_bags_draws_k_associates_per_list():
    voc = {w: i for i, w in enumerate(sorted({w for ws in drm.DRM_LISTS.values() for w in ws}))}
    bags, studied = study_bags(voc, 4, rng=0)
    assert bags.shape == (20, 300) and np.all(bags.sum(1) == 4)
    for lure, idx in zip(drm.LURES, studied):
        assert {list(voc)[j] for j in idx} <= set(drm.DRM_LISTS[lure])
    with pytest.raises(ValueError, match="k must be"):
        study_bags(voc, 0)
    with pytest.raises(ValueError, match="k must be"):
        study_bags(voc, 16)


# --------------------------------------------------------------------------- controls
@pytest.fixture(scope="module")
def small_corpus():
    cfg = apply_overrides(CONFIGS["tiny"], ["corpus.n_stories=1500", "corpus.n_background=[0,0]"]).corpus
    rng = np.random.default_rng(0)
    return cfg, synthetic_stories(cfg, rng), synthetic_stories(cfg, np.random.default_rng(0), decouple=True)


def test_decoupled_corpus_has_no_lure_associate_cooccurrence(small_corpus):
    _, normal, decoupled = small_corpus
    X, voc = vectorize(decoupled, 1.0, 1)
    st = corpus_stats(X, voc)
    assert st["p_lure_given_assoc"] == 0.0
    Xn, vn = vectorize(normal, 1.0, 1)
    sn = corpus_stats(Xn, vn)
    assert sn["p_lure_given_assoc"] > 0.15
    # lure frequency is kept
    assert 0.8 < st["df_ratio"] / sn["df_ratio"] < 1.25


def test_decouple_real_stories_removes_lures_next_to_associates():
    out = decouple_stories(["I could not sleep in my bed.", "Sleep well.", "A cold winter night!"])
    assert out == ["could not in my bed", "sleep well", "winter night"]


def test_hippocampus_only_control_recalls_no_lure_but_every_studied_word():
    voc = {w: i for i, w in enumerate(sorted(set(drm.LURES) | {w for ws in drm.DRM_LISTS.values() for w in ws}))}
    curve = list_length_curve(hippocampus_only_recall_fn(), voc, [3, 9, 14, 15], 2, rng=0)
    assert curve["rate"] == [0.0] * 4
    assert curve["studied_recall"] == [1.0] * 4
    assert curve["intrusions"] == [0.0] * 4
    m = measures(curve)
    rows = {r["id"]: r for r in evaluate(CRITERIA, m)}
    assert rows["E15.gain"]["passed"] is False and rows["E15.rise"]["passed"] is False


def _trained_small(stories, cfg, seed=0):
    from refmem.experiments.drm.run import train_text_vae
    X, voc = vectorize(stories, 0.1, 2)
    dcfg = DRMConfig(corpus=cfg, latent_dim=32, epochs=15, batch_size=64, lr=1e-2, patience=3)
    vae, _ = train_text_vae(X, dcfg, np.random.default_rng(seed), np.random.default_rng(seed + 1))
    return vae, voc


def test_controls_fail_and_the_model_passes_on_a_small_case(small_corpus):
    """A small VAE (32 latents, 1,500 stories, no background topics) trained on the normal
    corpus falsely recalls lures more with longer lists; trained on the decoupled corpus it
    does not; the untrained VAE and the constant decoder fail their rules."""
    cfg, normal, decoupled = small_corpus
    vae, voc = _trained_small(normal, cfg)
    vae_dc, voc_dc = _trained_small(decoupled, cfg)
    ks = [3, 6, 9, 12, 14, 15]
    m = measures(list_length_curve(vae_recall_fn(vae), voc, ks, 3, rng=0))
    controls = {"decoupled corpus": measures(list_length_curve(vae_recall_fn(vae_dc), voc_dc, ks, 3, rng=0)),
                "hippocampus only": measures(list_length_curve(hippocampus_only_recall_fn(), voc, ks, 3, rng=0)),
                "untrained VAE": measures(list_length_curve(vae_recall_fn(bow_vae(len(voc), 32, rng=9)), voc, ks, 3,
                                                            rng=0)),
                "constant decoder": measures(list_length_curve(prior_recall_fn(vae), voc, ks, 3, rng=0))}
    rows = evaluate(CRITERIA, m, controls)
    for r in rows:
        assert r["control_passed"] is False, r
    assert controls["decoupled corpus"]["max_rate"] <= 0.05
    assert m["max_rate"] >= 0.3 and m["spearman_rho"] > 0.9, m
    assert [r["passed"] for r in rows] == [True] * len(rows), rows


# --------------------------------------------------------------------------- corpus files
def test_read_stories_lines_and_rocstories_csv(tmp_path):
    p = tmp_path / "stories.txt"
    p.write_text("First story here.\n\n  Second story.  \n", encoding="utf-8")
    assert read_stories(p) == ["First story here.", "Second story."]
    c = tmp_path / "roc.csv"
    c.write_text("storyid,storytitle,sentence1,sentence2,sentence3,sentence4,sentence5\n"
                 'a1,T,"Sam slept.","He woke, late.",C.,D.,E.\n'
                 "a2,U,F.,G.,H.,I.,J.\n", encoding="utf-8")
    assert read_stories(c) == ["Sam slept. He woke, late. C. D. E.", "F. G. H. I. J."]


@pytest.mark.parametrize("content, match", [
    ("", "no stories"), ("\n \n", "no stories"),
    ("id,text\n1,hello\n", "sentence1"),
    ("sentence1,sentence2,sentence3,sentence4,sentence5\nA,B\n", "columns"),
])
def test_read_stories_bad_files(tmp_path, content, match):
    p = tmp_path / "bad.csv"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=match):
        read_stories(p)


def test_read_stories_missing_and_binary(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_stories(tmp_path / "nope.txt")
    b = tmp_path / "bin.txt"
    b.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ValueError, match="UTF-8"):
        read_stories(b)


def test_cli_bad_corpus_file_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["--config", "tiny", "--corpus", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "o"),
              "--quiet"])
    assert e.value.code == 2
    assert "does not exist" in capsys.readouterr().err


# --------------------------------------------------------------------------- config, cli
def test_presets_round_trip_and_validate():
    for name, cfg in CONFIGS.items():
        d = json.loads(json.dumps(config_to_dict(cfg)))
        assert config_from_dict(DRMConfig, d) == cfg, name
        validate_config(cfg)
    assert CONFIGS["paper"].epochs == 100 and CONFIGS["paper"].batch_size == 128
    assert CONFIGS["paper"].latent_dim == 300 and CONFIGS["paper"].beta == 100.0
    assert CONFIGS["paper"].corpus.max_df == 0.1 and CONFIGS["paper"].corpus.min_df == 0.0005


@pytest.mark.parametrize("override, match", [
    ("ks=[0,3]", "ks"), ("ks=[3,16]", "ks"), ("threshold=1.0", "threshold"), ("n_reps=0", "n_reps"),
    ("corpus.lure_weight=-1", "lure_weight"), ("beta=0", "beta"),
])
def test_bad_config_values(override, match):
    with pytest.raises(ValueError, match=match):
        validate_config(apply_overrides(CONFIGS["tiny"], [override]))


def test_cli_rejects_unknown_keys(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["--config", "tiny", "--set", "nope=1", "--out", str(tmp_path)])
    assert e.value.code == 2 and "nope" in capsys.readouterr().err


def test_registered_and_tiny_run_end_to_end(tmp_path):
    from refmem.cli import EXPERIMENTS
    assert EXPERIMENTS["drm"] == "refmem.experiments.drm"
    out = tmp_path / "run"
    code = main(["--config", "tiny", "--out", str(out), "--quiet"])
    assert code in (0, 1)
    r = json.loads((out / "results.json").read_text())
    assert r["curve"]["ks"] == [3, 9, 14, 15] and r["curve"]["n_trials"] == [40] * 4
    assert set(r["controls"]) == {"decoupled corpus", "hippocampus only", "untrained VAE", "constant decoder"}
    assert r["controls"]["hippocampus only"]["measures"]["max_rate"] == 0.0
    assert [s["lure_weight"] for s in r["sweep"]] == [0.5, 1.0]
    assert len(r["criteria"]) == 4 and (out / "report.md").exists()
    assert os.path.exists(out / "vaes" / "main.npz")
    # resume reuses the cached VAEs and reproduces the results
    main(["--config", "tiny", "--out", str(out), "--quiet", "--resume"])
    r2 = json.loads((out / "results.json").read_text())
    assert r2["curve"] == r["curve"] and r2["sweep"] == r["sweep"]


def test_cli_corpus_file_and_vae_mismatch(tmp_path, capsys):
    from refmem.experiments.drm.config import CONFIGS as C
    stories = synthetic_stories(C["tiny"].corpus, np.random.default_rng(1))
    f = tmp_path / "stories.txt"
    f.write_text("\n".join(stories) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    main(["--config", "tiny", "--corpus", str(f), "--out", str(out), "--quiet", "--set", "controls=false"])
    r = json.loads((out / "results.json").read_text())
    assert r["corpus"]["source"].startswith("file stories.txt (400 stories)")
    assert r["sweep"] == [] and r["controls"] == {}
    bad = tmp_path / "bad_vae.npz"
    bow_vae(7, latent_dim=4, rng=0).save(bad)
    with pytest.raises(SystemExit) as e:
        main(["--config", "tiny", "--corpus", str(f), "--vae", str(bad), "--out", str(out), "--quiet"])
    assert e.value.code == 2 and "reads 7 words" in capsys.readouterr().err
