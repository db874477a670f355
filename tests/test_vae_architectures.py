"""Layer-by-layer fidelity of the paper's three VAEs to docs/paper-experiments.md, 1.4, E10 and E15,
with the parameter counts of the Keras models computed by hand."""
import numpy as np
import pytest

import refmem.nn.layers as L
from refmem.neocortex import bow_vae, mnist_vae, shapes3d_vae


def _describe(layer):
    """(type, output shape, the hyper-parameters that define the layer) of one layer."""
    out = layer.output_shape
    if isinstance(layer, (L.Conv2D, L.Conv2DTranspose)):
        return (type(layer).__name__, out, layer.kernel_size, layer.strides, layer.padding)
    if isinstance(layer, L.UpsampleConv2D):
        return ("UpsampleConv2D", out, layer.kernel_size, layer.size, layer.padding)
    if isinstance(layer, L.UpSampling2D):
        return ("UpSampling2D", out, layer.size)
    if isinstance(layer, L.BatchNorm):
        return ("BatchNorm", out, layer.mode, layer.momentum, layer.eps)
    if isinstance(layer, L.LeakyReLU):
        return ("LeakyReLU", out, layer.alpha)
    if isinstance(layer, L.Dropout):
        return ("Dropout", out, layer.rate, layer.mode)
    return (type(layer).__name__, out)


def _block(shape, filters, mode):  # Conv 4x4 s2 valid -> BN -> LeakyReLU(0.3)
    return [("Conv2D", shape, (4, 4), (2, 2), "valid"), ("BatchNorm", shape, mode, 0.99, 1e-3),
            ("LeakyReLU", shape, 0.3)]


@pytest.mark.parametrize("mode", ["as_run", "batch"])
@pytest.mark.parametrize("fused", [True, False])
def test_shapes3d_layer_by_layer(mode, fused):
    vae = shapes3d_vae(rng=0, bn_mode=mode, fused_upsample=fused)
    enc = [_describe(l) for l in vae.encoder.trunk_layers]
    want = [("Dropout", (64, 64, 3), 0.2, mode)]
    for shape, f in [((31, 31, 32), 32), ((14, 14, 64), 64), ((6, 6, 128), 128), ((2, 2, 256), 256)]:
        want += _block(shape, f, mode)
    want.append(("GlobalAveragePooling2D", (256,)))
    assert enc == want
    # two parallel linear heads on the pooled 256-d vector
    assert [_describe(l) for l in vae.encoder.mu_layers] == [("Dense", (20,))]
    assert [_describe(l) for l in vae.encoder.log_var_layers] == [("Dense", (20,))]
    for head in (vae.encoder.mu_layers[0], vae.encoder.log_var_layers[0]):
        assert head.input_shape == (256,) and head.use_bias
    dec = [_describe(l) for l in vae.decoder.layers]
    want = [("Dense", (4096,)), ("Reshape", (4, 4, 256))]
    for shape in [(8, 8, 128), (16, 16, 64), (32, 32, 32), (64, 64, 3)]:
        if fused:
            want.append(("UpsampleConv2D", shape, (3, 3), (2, 2), "same"))
        else:
            want += [("UpSampling2D", (shape[0], shape[1], {8: 256, 16: 128, 32: 64, 64: 32}[shape[0]]), (2, 2)),
                     ("Conv2D", shape, (3, 3), (1, 1), "same")]
        if shape[2] != 3:
            want += [("BatchNorm", shape, mode, 0.99, 1e-3), ("LeakyReLU", shape, 0.3)]
    want.append(("Sigmoid", (64, 64, 3)))
    assert dec == want
    assert vae.recon == "l1_channel_mean" and vae.kl_weight == 1.0 and vae.kl_reduction == "sum"


def test_shapes3d_parameter_count_equals_keras():
    # Keras model.count_params() of encoder_network_large + decoder_network_large, by hand:
    conv = lambda k, c, f: k * k * c * f + f  # kernel + bias  # noqa: E731
    dense = lambda i, o: i * o + o  # noqa: E731
    bn = lambda c: 2 * c  # trainable gamma, beta  # noqa: E731
    enc = (conv(4, 3, 32) + conv(4, 32, 64) + conv(4, 64, 128) + conv(4, 128, 256)
           + bn(32) + bn(64) + bn(128) + bn(256) + 2 * dense(256, 20))
    dec = (dense(20, 4096) + conv(3, 256, 128) + conv(3, 128, 64) + conv(3, 64, 32) + conv(3, 32, 3)
           + bn(128) + bn(64) + bn(32))
    assert (enc, dec) == (701_384, 474_627)
    non_trainable = 2 * (32 + 64 + 128 + 256) + 2 * (128 + 64 + 32)  # moving mean / variance
    for fused in (True, False):
        vae = shapes3d_vae(rng=0, fused_upsample=fused)
        assert sum(p.size for k, p in vae.params.items() if k.startswith("encoder.")) == enc
        assert sum(p.size for k, p in vae.params.items() if k.startswith("decoder.")) == dec
        assert sum(p.size for p in vae.params.values()) == enc + dec == 1_176_011
        assert sum(b.size for b in vae.buffers.values()) == non_trainable == 1_408
        # Keras's count_params() includes the BN moving statistics
        assert enc + dec + non_trainable == 1_177_419


def test_mnist_layer_by_layer_and_parameter_count():
    vae = mnist_vae(rng=0)
    enc = [_describe(l) for l in vae.encoder.trunk_layers]
    assert enc == [
        ("Dropout", (28, 28, 1), 0.1, "as_run"),
        ("Conv2D", (14, 14, 32), (3, 3), (2, 2), "same"), ("ReLU", (14, 14, 32)),
        ("Conv2D", (7, 7, 64), (3, 3), (2, 2), "same"), ("ReLU", (7, 7, 64)),
        ("Flatten", (3136,)), ("Dense", (16,)), ("ReLU", (16,)), ("Dense", (20,))]
    assert [_describe(l) for l in vae.encoder.mu_layers] == [("Dense", (20,))]
    assert [_describe(l) for l in vae.encoder.log_var_layers] == [("Dense", (20,))]
    assert vae.encoder.mu_layers[0].input_shape == (20,)  # both heads read the 20-d vector
    dec = [_describe(l) for l in vae.decoder.layers]
    assert dec == [
        ("Dense", (3136,)), ("ReLU", (3136,)), ("Reshape", (7, 7, 64)),
        ("Conv2DTranspose", (14, 14, 64), (3, 3), (2, 2), "same"), ("ReLU", (14, 14, 64)),
        ("Conv2DTranspose", (28, 28, 32), (3, 3), (2, 2), "same"), ("ReLU", (28, 28, 32)),
        ("Conv2DTranspose", (28, 28, 1), (3, 3), (1, 1), "same"), ("Sigmoid", (28, 28, 1))]
    enc_n = (9 * 32 + 32) + (9 * 32 * 64 + 64) + (3136 * 16 + 16) + (16 * 20 + 20) + 2 * (20 * 20 + 20)
    dec_n = (20 * 3136 + 3136) + (9 * 64 * 64 + 64) + (9 * 64 * 32 + 32) + (9 * 32 * 1 + 1)
    assert (enc_n, dec_n) == (70_188, 121_537)
    assert sum(p.size for p in vae.params.values()) == enc_n + dec_n and not vae.buffers
    assert vae.recon == "l1_channel_mean" and vae.kl_weight == 1.0 and vae.kl_reduction == "sum"


def test_bow_heads_read_dropout_and_raw_input():
    v, lat = 50, 6
    vae = bow_vae(v, latent_dim=lat, rng=0, dtype=np.float64, dropout_mode="batch")
    assert vae.encoder.trunk is None
    assert [_describe(l) for l in vae.encoder.mu_layers] == [("Dropout", (v,), 0.5, "batch"), ("Dense", (lat,))]
    assert [_describe(l) for l in vae.encoder.log_var_layers] == [("Dense", (lat,))]
    assert [_describe(l) for l in vae.decoder.layers] == [("Dense", (v,)), ("Sigmoid", (v,))]
    n_params = 2 * (v * lat + lat) + (lat * v + v)
    assert sum(p.size for p in vae.params.values()) == n_params
    # with real dropout (train=True), mu sees dropout(x) while log_var sees the raw x
    x = (np.random.default_rng(1).uniform(size=(4, v)) < 0.5).astype(np.float64)
    p = vae.params
    mu, log_var, _ = vae.encoder.forward(x, train=True, rng=np.random.default_rng(2))
    np.testing.assert_allclose(log_var, x @ p["encoder.log_var.kernel"] + p["encoder.log_var.bias"])
    assert not np.allclose(mu, x @ p["encoder.mu.kernel"] + p["encoder.mu.bias"])
    # as run (and at inference) the dropout is identity: mu = Dense(x)
    mu_inf, _ = vae.encode(x)
    np.testing.assert_allclose(mu_inf, x @ p["encoder.mu.kernel"] + p["encoder.mu.bias"])
    as_run = bow_vae(v, latent_dim=lat, rng=0, dtype=np.float64)
    mu_run, _, _ = as_run.encoder.forward(x, train=True, rng=np.random.default_rng(2))
    np.testing.assert_allclose(mu_run, mu_inf)
    assert vae.recon == "bce" and vae.kl_weight == 1e-3 and vae.kl_reduction == "mean"


def test_constructors_use_keras_initialisation():
    for vae in (shapes3d_vae(rng=0, bn_mode="batch"), mnist_vae(rng=0), bow_vae(30, latent_dim=4, rng=0)):
        layers = vae.encoder.trunk_layers + vae.encoder.mu_layers + vae.encoder.log_var_layers
        layers += list(vae.decoder.layers)
        for l in layers:
            if "kernel" in l.params:
                k = l.params["kernel"]
                if k.ndim == 2:
                    fans = k.shape
                else:
                    rf = k.shape[0] * k.shape[1]
                    fans = (rf * k.shape[2], rf * k.shape[3])
                limit = np.sqrt(6.0 / sum(fans))  # Glorot uniform
                assert np.abs(k).max() <= limit and np.abs(k).max() > 0.5 * limit, l.name
                assert not l.params["bias"].any(), l.name
            if isinstance(l, L.BatchNorm):
                assert (l.params["gamma"] == 1).all() and not l.params["beta"].any()
                assert not l.buffers["moving_mean"].any() and (l.buffers["moving_variance"] == 1).all()
    a, b = shapes3d_vae(rng=3), shapes3d_vae(rng=np.random.default_rng(3))
    for k in a.params:  # every draw from the rng argument
        np.testing.assert_array_equal(a.params[k], b.params[k])
