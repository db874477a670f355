"""Tests of refmem.neocortex.vae: the VAE object (names, encode/decode, loss, grads, validation, state)."""
import numpy as np
import pytest

from refmem.nn.layers import Dense, Sequential, Sigmoid
from refmem.nn.losses import kl_normal, recon_l1_channel_mean
from refmem.neocortex import VAE, GaussianEncoder, bow_vae, mnist_vae, shapes3d_vae

SMALL = dict(widths=(4, 6, 8, 10))  # reduced-width Shapes3D VAE for fast tests


@pytest.fixture(scope="module")
def s3d():
    return shapes3d_vae(rng=0, **SMALL)


def _images(n, shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).uniform(0.05, 0.95, size=(n,) + shape).astype(dtype)


def test_shapes3d_parameter_names_and_keras_layouts():
    vae = shapes3d_vae(rng=0)
    p = vae.params
    expect = []
    for i in range(1, 5):
        expect += [f"encoder.conv{i}.kernel", f"encoder.conv{i}.bias",
                   f"encoder.bn{i}.gamma", f"encoder.bn{i}.beta"]
    expect += ["encoder.mu.kernel", "encoder.mu.bias", "encoder.log_var.kernel", "encoder.log_var.bias",
               "decoder.dense.kernel", "decoder.dense.bias"]
    for i in range(1, 5):
        expect += [f"decoder.conv{i}.kernel", f"decoder.conv{i}.bias"]
        if i < 4:
            expect += [f"decoder.bn{i}.gamma", f"decoder.bn{i}.beta"]
    assert list(p) == expect
    assert p["encoder.conv1.kernel"].shape == (4, 4, 3, 32)  # HWIO
    assert p["encoder.conv4.kernel"].shape == (4, 4, 128, 256)
    assert p["encoder.mu.kernel"].shape == (256, 20)  # Dense (in, out)
    assert p["decoder.dense.kernel"].shape == (20, 4096)
    assert p["decoder.conv1.kernel"].shape == (3, 3, 256, 128)
    assert p["decoder.conv4.kernel"].shape == (3, 3, 32, 3)
    assert sorted(vae.buffers)[:2] == ["decoder.bn1.moving_mean", "decoder.bn1.moving_variance"]
    assert sum(v.size for v in p.values()) == 1_176_011
    assert vae.input_shape == (64, 64, 3) and vae.latent_dim == 20 and vae.dtype == np.float32
    assert not any(p[k].any() for k in p if k.endswith("bias"))  # Keras: zero biases
    assert all((p[k] == 1).all() for k in p if k.endswith("gamma"))


def test_mnist_and_bow_names():
    m = mnist_vae(rng=0)
    assert m.params["encoder.conv1.kernel"].shape == (3, 3, 1, 32)
    assert m.params["encoder.dense2.kernel"].shape == (16, 20)
    assert m.params["encoder.mu.kernel"].shape == (20, 20)
    assert m.params["decoder.convt1.kernel"].shape == (3, 3, 64, 64)  # ConvT (kh, kw, out, in)
    assert m.params["decoder.convt3.kernel"].shape == (3, 3, 1, 32)
    b = bow_vae(40, latent_dim=7, rng=0)
    assert list(b.params) == ["encoder.mu.kernel", "encoder.mu.bias", "encoder.log_var.kernel",
                              "encoder.log_var.bias", "decoder.dense.kernel", "decoder.dense.bias"]
    assert b.recon == "bce" and b.kl_weight == 1e-3 and b.kl_reduction == "mean"


def test_params_are_shared_with_layers(s3d):
    x = _images(2, (64, 64, 3))
    before = s3d.reconstruct(x)
    saved = s3d.get_state()
    s3d.params["decoder.conv4.bias"] += 0.5  # in place, as the optimiser does
    assert not np.allclose(before, s3d.reconstruct(x))
    s3d.set_state(saved)
    np.testing.assert_array_equal(before, s3d.reconstruct(x))


def test_encode_decode_reconstruct(s3d):
    x = _images(5, (64, 64, 3))
    mu, log_var = s3d.encode(x)
    assert mu.shape == log_var.shape == (5, 20) and mu.dtype == np.float32
    np.testing.assert_array_equal(s3d.reconstruct(x), s3d.decode(mu))
    # chunked processing gives the same result
    np.testing.assert_allclose(s3d.reconstruct(x, batch_size=2), s3d.reconstruct(x), rtol=1e-6, atol=1e-7)
    out = s3d.decode(np.zeros((3, 20)))
    assert out.shape == (3, 64, 64, 3) and out.dtype == np.float32
    assert out.min() > 0 and out.max() < 1


def test_loss_matches_manual_computation():
    vae = shapes3d_vae(rng=1, dtype=np.float64, **SMALL)
    x = _images(3, (64, 64, 3), dtype=np.float64)
    eps = np.random.default_rng(2).standard_normal((3, 20))
    out = vae.loss(x, eps=eps)
    mu, lv = vae.encode(x)
    x_hat = vae.decode(mu + np.exp(lv / 2) * eps)  # z = mu + sigma eps
    recon = recon_l1_channel_mean(x, x_hat)[0]
    kl = kl_normal(mu, lv)[0]
    assert out["recon"] == pytest.approx(recon, rel=1e-12)
    assert out["kl"] == pytest.approx(kl, rel=1e-12)
    assert out["total"] == pytest.approx(recon + kl, rel=1e-12)
    # sampled loss is random without eps, reproducible with a seed
    assert vae.loss(x, rng=5) == vae.loss(x, rng=5)


def test_bow_loss_weights_kl():
    vae = bow_vae(30, latent_dim=4, rng=0, dtype=np.float64)
    x = (np.random.default_rng(0).uniform(size=(5, 30)) < 0.2).astype(float)
    out = vae.loss(x, rng=0)
    assert out["total"] == pytest.approx(out["recon"] + 1e-3 * out["kl"])


def test_loss_and_grads_fresh_and_accumulation():
    vae = mnist_vae(rng=0, dtype=np.float64)
    x = _images(2, (28, 28, 1), dtype=np.float64)
    eps = np.random.default_rng(1).standard_normal((2, 20))
    l1, g1 = vae.loss_and_grads(x, eps=eps)
    l2, g2 = vae.loss_and_grads(x, eps=eps)  # fresh: not accumulated onto g1
    assert l1 == l2 and list(g1) == list(vae.params)
    for k in g1:
        np.testing.assert_array_equal(g1[k], g2[k])
        assert g1[k] is not vae.grads[k]
    vae.zero_grad()
    vae.accumulate_grads(x, eps=eps)
    vae.accumulate_grads(x, eps=eps)
    for k in g1:
        np.testing.assert_allclose(vae.grads[k], 2 * g1[k], rtol=1e-12, atol=1e-15)
    vae.zero_grad()
    assert not any(g.any() for g in vae.grads.values())


def test_encoder_activations_are_raw_conv_outputs(s3d):
    x = _images(2, (64, 64, 3))
    acts = s3d.encoder_activations(x, ["conv1", "conv2", "conv3", "conv4"])
    assert [a.shape[1:] for a in acts.values()] == [(31, 31, 4), (14, 14, 6), (6, 6, 8), (2, 2, 10)]
    conv1 = s3d.encoder.trunk["conv1"]
    np.testing.assert_array_equal(acts["conv1"], conv1.forward(x)[0])  # before batch norm
    with pytest.raises(ValueError, match="unknown encoder layer"):
        s3d.encoder_activations(x, ["conv9"])
    assert set(s3d.encoder_activations(x, "mu")) == {"mu"}


def test_split_encoder_from_a_sequential():
    rng = np.random.default_rng(0)
    enc = Sequential([Dense(6, 8, rng=rng, name="d", dtype=np.float64)])
    dec = Sequential([Dense(4, 6, rng=rng, name="d", dtype=np.float64),
                      Sigmoid((6,), name="s", dtype=np.float64)])
    vae = VAE(enc, dec, 4, recon="mse", input_range=None)
    x = rng.normal(size=(3, 6))
    mu, lv = vae.encode(x)
    h = x @ vae.params["encoder.d.kernel"]
    np.testing.assert_allclose(mu, h[:, :4])
    np.testing.assert_allclose(lv, h[:, 4:])
    losses, grads = vae.loss_and_grads(x, rng=0)
    assert set(grads) == {"encoder.d.kernel", "encoder.d.bias", "decoder.d.kernel", "decoder.d.bias"}


def test_constructor_validation():
    rng = np.random.default_rng(0)
    enc = GaussianEncoder(None, mu=Dense(6, 4, rng=rng, name="mu"), log_var=Dense(6, 4, rng=rng, name="lv"),
                          input_shape=(6,))
    with pytest.raises(ValueError, match="latent_dim"):
        VAE(enc, Sequential([Dense(3, 6, rng=rng)]), 3)
    with pytest.raises(ValueError, match="recon"):
        VAE(enc, Sequential([Dense(4, 6, rng=rng)]), 4, recon="l2")
    with pytest.raises(ValueError, match="unique"):
        GaussianEncoder(None, mu=Dense(6, 4, name="a"), log_var=Dense(6, 4, name="a"), input_shape=(6,))
    with pytest.raises(TypeError):
        VAE("encoder", Sequential([Dense(4, 6)]), 4)
    with pytest.raises(ValueError, match="latent_dim"):
        shapes3d_vae(latent_dim=0)
    with pytest.raises(ValueError, match="bn_mode"):
        shapes3d_vae(bn_mode="train")


@pytest.mark.parametrize("bad, err, match", [
    (np.zeros((2, 64, 64)), ValueError, r"\(\*, 64, 64, 3\)"),
    (np.zeros((2, 32, 32, 3)), ValueError, r"\(\*, 64, 64, 3\)"),
    (np.zeros((64, 64, 3)), ValueError, r"\(\*, 64, 64, 3\)"),
    (np.full((1, 64, 64, 3), np.nan), ValueError, "NaN"),
    (np.full((1, 64, 64, 3), np.inf), ValueError, "NaN or inf"),
    (np.full((1, 64, 64, 3), 1.5), ValueError, r"\[0, 1\]"),
    (np.full((1, 64, 64, 3), -0.1), ValueError, r"\[0, 1\]"),
    (np.full((1, 64, 64, 3), "a", dtype=object), TypeError, "numeric"),
    (np.full((1, 64, 64, 3), 1 + 0j), TypeError, "real"),
    (np.zeros((0, 64, 64, 3)), ValueError, "at least 1"),
])
def test_bad_input(s3d, bad, err, match):
    for fn in (s3d.encode, s3d.reconstruct, s3d.loss, s3d.loss_and_grads):
        with pytest.raises(err, match=match):
            fn(bad)


def test_bad_latents_and_eps(s3d):
    with pytest.raises(ValueError, match=r"\(\*, 20\)"):
        s3d.decode(np.zeros((2, 19)))
    with pytest.raises(ValueError, match="NaN"):
        s3d.decode(np.full((2, 20), np.nan))
    with pytest.raises(ValueError, match=r"eps must have shape \(2, 20\)"):
        s3d.loss(_images(2, (64, 64, 3)), eps=np.zeros((2, 3)))


def test_float64_input_is_cast_and_ints_accepted(s3d):
    x64 = _images(2, (64, 64, 3), dtype=np.float64)
    np.testing.assert_array_equal(s3d.reconstruct(x64), s3d.reconstruct(x64.astype(np.float32)))
    assert s3d.reconstruct(np.ones((1, 64, 64, 3), dtype=np.int64)).dtype == np.float32
    b = bow_vae(10, latent_dim=3, rng=0)
    assert b.encode(np.eye(10, dtype=bool))[0].dtype == np.float32  # binary BoW as bool


def test_get_set_state_validation(s3d):
    st = s3d.get_state()
    assert all(k.startswith(("param/", "buffer/")) for k in st)
    bad = dict(st)
    bad.pop("param/decoder.conv1.kernel")
    with pytest.raises(ValueError, match="missing"):
        s3d.set_state(bad)
    bad = dict(st, **{"param/decoder.conv1.kernel": np.zeros((1, 2))})
    with pytest.raises(ValueError, match="expected shape"):
        s3d.set_state(bad)
