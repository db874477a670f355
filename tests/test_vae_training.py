"""Tests of refmem.neocortex.training (epochs, early stopping, callbacks) and VAE save/load."""
import json

import numpy as np
import pytest

from refmem.neocortex.training import Callback, EarlyStopping
from refmem.neocortex import VAE, bow_vae, load_vae, mnist_vae, shapes3d_vae


def _blobs(n, rng, size=28):
    """Synthetic digit-like images: one bright bar or square per image, 4 classes."""
    x = np.zeros((n, size, size, 1), np.float32)
    for i in range(n):
        r, c = rng.integers(4, size - 12, size=2)
        kind = i % 4
        if kind == 0:
            x[i, r:r + 10, c:c + 3] = 1
        elif kind == 1:
            x[i, r:r + 3, c:c + 10] = 1
        elif kind == 2:
            x[i, r:r + 8, c:c + 8] = 1
        else:
            x[i, r:r + 8, c:c + 8] = 1
            x[i, r + 2:r + 6, c + 2:c + 6] = 0
    return x


class _CountingOptimizer:
    def __init__(self):
        self.steps = 0

    def step(self, grads):
        self.steps += 1


def test_train_epoch_keeps_last_partial_batch_and_averages_batches():
    vae = bow_vae(20, latent_dim=3, rng=0)
    x = (np.random.default_rng(0).uniform(size=(70, 20)) < 0.3).astype(np.float32)
    opt = _CountingOptimizer()
    logs = vae.train_epoch(x, opt, batch_size=32, rng=1)
    assert opt.steps == 3  # 32 + 32 + 6 (paper: 10,000 images -> 313 steps)
    assert set(logs) == {"loss", "recon", "kl"}
    # the epoch loss is the unweighted mean over batches (what Keras reports)
    rng = np.random.default_rng(1)
    order = rng.permutation(70)
    per_batch = [vae.loss(x[order[s:s + 32]], rng=rng)["total"] for s in range(0, 70, 32)]
    assert logs["loss"] == pytest.approx(np.mean(per_batch), rel=1e-6)


def test_smoke_training_reduces_loss():
    # ~500 synthetic 28x28 images, the MNIST VAE, one epoch of 16 AMSGrad steps
    rng = np.random.default_rng(0)
    x = _blobs(512, rng)
    vae = mnist_vae(rng=1)
    probe = x[:128]  # loss measured on a fixed subset with fixed noise
    before = vae.loss(probe, rng=2)["total"]
    hist = vae.fit(x, epochs=1, batch_size=32, rng=3, patience=None)
    after = vae.loss(probe, rng=2)["total"]
    assert after < hist["loss"][0] < before
    assert after < 0.8 * before
    assert all(np.isfinite(p).all() for p in vae.params.values())


def test_fit_is_deterministic_given_rng():
    x = (np.random.default_rng(0).uniform(size=(40, 15)) < 0.3).astype(np.float32)
    a, b = bow_vae(15, latent_dim=4, rng=1), bow_vae(15, latent_dim=4, rng=1)
    ha = a.fit(x, epochs=3, batch_size=8, rng=5)
    hb = b.fit(x, epochs=3, batch_size=8, rng=np.random.default_rng(5))
    assert ha["loss"] == hb["loss"]
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])


def test_fit_continues_with_existing_optimizer_bit_identically():
    x = (np.random.default_rng(0).uniform(size=(30, 12)) < 0.3).astype(np.float32)
    a, b = bow_vae(12, latent_dim=3, rng=2), bow_vae(12, latent_dim=3, rng=2)
    rng_a = np.random.default_rng(7)
    a.fit(x, epochs=4, batch_size=8, rng=rng_a, patience=None)
    rng_b = np.random.default_rng(7)
    b.fit(x, epochs=2, batch_size=8, rng=rng_b, patience=None)
    opt = b.optimizer
    b.fit(x, epochs=2, batch_size=8, rng=rng_b, patience=None, optimizer=opt)
    assert b.optimizer is opt
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert opt.t == 16 and opt.amsgrad


def test_early_stopping_keras_semantics():
    es = EarlyStopping(patience=3)
    # best 4 at epoch 1; epochs 2-4 do not improve (equal is not an improvement) -> stop at 4
    assert [es.update(v) for v in [5.0, 4.0, 4.0, 4.5, 4.0]] == [False, False, False, False, True]
    es = EarlyStopping(patience=2, min_delta=0.5)
    # 4.6 is not 0.5 below 5.0 (wait 1); 4.2 is (best 4.2); 4.0 and 3.9 are not -> stop
    assert [es.update(v) for v in [5.0, 4.6, 4.2, 4.0, 3.9]] == [False, False, False, False, True]
    with pytest.raises(ValueError):
        EarlyStopping(patience=-1)


def test_early_stopping_edge_cases():
    # a loss exactly min_delta below the best is no improvement (Keras: strict <)
    es = EarlyStopping(patience=1, min_delta=0.5)
    assert [es.update(v) for v in [5.0, 4.5]] == [False, True]
    assert es.best == 5.0
    # a steadily improving run never stops; wait resets on every improvement
    es = EarlyStopping(patience=1)
    assert not any(es.update(v) for v in [5.0, 4.0, 3.0, 2.0])
    assert es.wait == 0 and es.best == 2.0
    # patience 1: the first non-improving epoch stops (wait 1 >= 1)
    es = EarlyStopping(patience=1)
    assert [es.update(v) for v in [5.0, 6.0]] == [False, True]
    # Keras never stops after the first epoch; with patience 0 it stops after the second
    assert EarlyStopping(patience=0).update(1.0) is False
    es = EarlyStopping(patience=0)
    assert [es.update(v) for v in [5.0, 4.0]] == [False, True]
    # an increase after an improvement starts a new count: 4 (best), 4.1, 4.2 (wait 2) no stop
    es = EarlyStopping(patience=3)
    assert [es.update(v) for v in [5.0, 4.0, 4.1, 4.2, 3.0, 3.5, 3.5, 3.5]] == \
        [False] * 7 + [True]
    with pytest.raises(ValueError, match="min_delta"):
        EarlyStopping(min_delta=-0.1)


def test_early_stopping_resumes_from_best_and_wait():
    # a run interrupted after [5, 4, 4.5, 4.5] (best 4, wait 2) and resumed with a fresh
    # stopper carrying best/wait must stop on the next non-improving epoch, as unbroken
    full = EarlyStopping(patience=3)
    assert [full.update(v) for v in [5.0, 4.0, 4.5, 4.5, 4.5]] == [False] * 4 + [True]
    resumed = EarlyStopping(patience=3)
    resumed.best, resumed.wait = 4.0, 2
    assert resumed.update(4.5) is True
    resumed = EarlyStopping(patience=0)
    resumed.best, resumed.wait = 4.0, 0
    assert resumed.update(3.0) is True  # patience 0 after the first epoch: always stop


def test_fit_early_stopping_keeps_last_weights_not_best():
    # Keras restore_best_weights=False: after stopping, the weights are the last epoch's
    x = (np.random.default_rng(0).uniform(size=(16, 10)) < 0.3).astype(np.float32)
    vae = bow_vae(10, latent_dim=2, rng=0)
    snapshots = []

    def snap(epoch, logs, v):
        snapshots.append({k: p.copy() for k, p in v.params.items()})

    # min_delta huge: epoch 0 improves (from inf), epochs 1 and 2 do not -> stop after 3
    hist = vae.fit(x, epochs=10, batch_size=4, rng=1, patience=2, min_delta=1e6, callbacks=[snap])
    assert hist["epochs"] == 3 and hist["stopped_early"] and len(snapshots) == 3
    for k, p in vae.params.items():
        np.testing.assert_array_equal(p, snapshots[-1][k])
    assert any(not np.array_equal(snapshots[0][k], snapshots[-1][k]) for k in vae.params)


def test_fit_early_stops_and_calls_callbacks_in_order():
    x = (np.random.default_rng(0).uniform(size=(16, 10)) < 0.3).astype(np.float32)
    vae = bow_vae(10, latent_dim=2, rng=0)
    events = []

    class Recorder(Callback):
        def on_epoch_begin(self, epoch, logs, v):
            events.append(("begin", epoch, dict(logs)))

        def on_epoch_end(self, epoch, logs, v):
            events.append(("end", epoch, sorted(logs)))

        def on_train_end(self, logs, v):
            events.append(("train_end", sorted(logs)))

    plain = []
    # a tiny learning rate with lr -> the loss barely changes; patience 1 with a huge
    # min_delta forces a stop after the second epoch
    hist = vae.fit(x, epochs=10, batch_size=4, lr=1e-6, rng=1, patience=1, min_delta=1e6,
                   callbacks=[Recorder(), lambda e, logs, v: plain.append(e)])
    assert hist["epochs"] == 2 and hist["stopped_early"] and len(hist["loss"]) == 2
    json.dumps(hist)  # the history is JSON-serialisable
    assert events[:3] == [("begin", 0, {}), ("end", 0, ["kl", "loss", "recon"]), ("begin", 1, {})]
    assert events[-1] == ("train_end", ["kl", "loss", "recon"])
    assert plain == [0, 1]


def test_callback_can_stop_training():
    x = (np.random.default_rng(0).uniform(size=(8, 6)) < 0.3).astype(np.float32)
    vae = bow_vae(6, latent_dim=2, rng=0)

    def stop(epoch, logs, v):
        v.stop_training = True

    hist = vae.fit(x, epochs=5, batch_size=4, rng=0, callbacks=[stop])
    assert hist["epochs"] == 1 and not hist["stopped_early"]


def test_fit_validates_arguments():
    vae = bow_vae(6, latent_dim=2, rng=0)
    x = np.zeros((4, 6), np.float32)
    with pytest.raises(ValueError, match="batch_size"):
        vae.fit(x, epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="epochs"):
        vae.fit(x, epochs=-1)
    with pytest.raises(ValueError, match=r"\(\*, 6\)"):
        vae.fit(np.zeros((4, 5)), epochs=1)


@pytest.mark.parametrize("build", [
    lambda: shapes3d_vae(rng=0, widths=(4, 6, 8, 10), fused_upsample=False),
    lambda: shapes3d_vae(rng=0, bn_mode="batch", widths=(4, 6, 8, 10), dtype=np.float64),
    lambda: mnist_vae(latent_dim=5, rng=0),
    lambda: bow_vae(25, latent_dim=4, rng=0),
])
def test_save_load_round_trip_bit_exact(tmp_path, build):
    vae = build()
    rng = np.random.default_rng(1)
    for p in vae.params.values():  # trained-looking weights
        p += rng.normal(0, 0.01, p.shape).astype(p.dtype)
    for b in vae.buffers.values():
        b += rng.uniform(0, 0.5, b.shape).astype(b.dtype)
    path = tmp_path / "vae.npz"
    vae.save(path)
    with np.load(path, allow_pickle=False) as f:  # loadable without pickle
        assert "config_json" in f.files
    back = load_vae(path)
    assert type(back) is VAE and repr(back) == repr(vae) and back.config == vae.config
    assert list(back.params) == list(vae.params) and list(back.buffers) == list(vae.buffers)
    for k in vae.params:
        assert back.params[k].dtype == vae.params[k].dtype
        np.testing.assert_array_equal(back.params[k], vae.params[k])
    for k in vae.buffers:
        np.testing.assert_array_equal(back.buffers[k], vae.buffers[k])
    x = rng.uniform(size=(2,) + vae.input_shape)
    np.testing.assert_array_equal(load_vae(path).reconstruct(x), vae.reconstruct(x))


def test_load_rejects_foreign_files(tmp_path):
    from refmem._utils import save_npz

    save_npz(tmp_path / "x.npz", {"a": np.zeros(3)})
    with pytest.raises(ValueError, match="config_json"):
        load_vae(tmp_path / "x.npz")
    vae = bow_vae(5, latent_dim=2, rng=0)
    vae.config = None  # a custom model cannot be rebuilt from the registry ...
    vae.save(tmp_path / "custom.npz")
    with pytest.raises(ValueError, match="not registered"):
        load_vae(tmp_path / "custom.npz")
    other = bow_vae(5, latent_dim=2, rng=1)  # ... but its weights load into a built one
    other.load_weights(tmp_path / "custom.npz")
    for k in vae.params:
        np.testing.assert_array_equal(other.params[k], vae.params[k])


@pytest.mark.slow
def test_shapes3d_vae_learns_rendered_scenes():
    # the paper's architecture (float32, AMSGrad, batch 32) on 512 rendered Shapes3D-like
    # scenes: a few epochs cut the reconstruction error of decode(mu(x)) substantially
    from refmem.datasets import shapes3d

    x, _ = shapes3d.sample(512, np.random.default_rng(0))
    vae = shapes3d_vae(rng=1)
    err0 = np.abs(vae.reconstruct(x[:64]) - x[:64]).mean()
    hist = vae.fit(x, epochs=4, batch_size=32, rng=2)
    err1 = np.abs(vae.reconstruct(x[:64]) - x[:64]).mean()
    assert hist["loss"][-1] < 0.7 * hist["loss"][0]
    assert err1 < 0.5 * err0
