"""Keras weight files (written here in the Keras 2 and Keras 3 layouts) round-trip."""
import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

from refmem.interop.keras import load_keras_vae, read_keras_weights, save_keras_h5  # noqa: E402
from refmem.neocortex.architectures import ARCHITECTURES  # noqa: E402

ARCHS = [("shapes3d", {"widths": (4, 4, 8, 8), "latent_dim": 3}), ("mnist", {"latent_dim": 5}),
         ("bow", {"vocab_size": 30, "latent_dim": 4})]


def _perturb(vae, seed=0):
    rng = np.random.default_rng(seed)
    state = vae.get_state()
    for k, v in state.items():
        if k.startswith("param/"):
            state[k] = v + 0.1 * rng.standard_normal(v.shape).astype(v.dtype)
    vae.set_state(state)
    return vae


@pytest.mark.parametrize("keras3", [False, True], ids=["keras2", "keras3"])
@pytest.mark.parametrize("arch,kwargs", ARCHS, ids=[a for a, _ in ARCHS])
def test_round_trip(tmp_path, arch, kwargs, keras3):
    vae = _perturb(ARCHITECTURES[arch](rng=0, **kwargs))
    suffix = ".weights.h5" if keras3 else ".h5"
    enc, dec = tmp_path / f"enc{suffix}", tmp_path / f"dec{suffix}"
    save_keras_h5(vae, enc, dec, keras3=keras3)
    back = load_keras_vae(arch, enc, dec)
    assert back.latent_dim == vae.latent_dim and back.config == vae.config
    for k in vae.params:
        np.testing.assert_array_equal(back.params[k], vae.params[k])
    back.save(tmp_path / "vae.npz")  # the file --vae options read


def test_paper_file_names_and_order(tmp_path):
    vae = ARCHITECTURES["shapes3d"](rng=0, widths=(4, 4, 8, 8), latent_dim=3)
    save_keras_h5(vae, tmp_path / "e.h5", tmp_path / "d.h5")
    enc = [n for n, _ in read_keras_weights(tmp_path / "e.h5")]
    dec = [n for n, _ in read_keras_weights(tmp_path / "d.h5")]
    assert enc == ["conv2d", "batch_normalization", "conv2d_1", "batch_normalization_1", "conv2d_2",
                   "batch_normalization_2", "conv2d_3", "batch_normalization_3", "mean", "dense"]
    assert dec[:3] == ["dense_1", "conv2d_4", "batch_normalization_4"]
    with h5py.File(tmp_path / "e.h5", "r") as f:
        name = f["mean"].attrs["weight_names"][0]
        assert (name.decode() if isinstance(name, bytes) else name) == "mean/kernel:0"
        assert f["mean/mean/kernel:0"].shape == (8, 3)


def test_heads_told_apart_by_name(tmp_path):
    """A file listing z_log_var before z_mean still maps μ and log σ² correctly."""
    vae = _perturb(ARCHITECTURES["bow"](vocab_size=12, latent_dim=3, rng=0))
    save_keras_h5(vae, tmp_path / "e.h5", tmp_path / "d.h5")
    with h5py.File(tmp_path / "e.h5", "r+") as f:
        f.attrs["layer_names"] = [b"z_log_var", b"z_mean"]
    back = load_keras_vae("bow", tmp_path / "e.h5", tmp_path / "d.h5")
    np.testing.assert_array_equal(back.params["encoder.mu.kernel"], vae.params["encoder.mu.kernel"])


def test_bn_statistics_checked(tmp_path):
    vae = ARCHITECTURES["shapes3d"](rng=0, widths=(4, 4, 8, 8), latent_dim=3)
    vae.buffers["encoder.bn2.moving_mean"][:] = 0.5
    save_keras_h5(vae, tmp_path / "e.h5", tmp_path / "d.h5")
    with pytest.raises(ValueError, match="batch_normalization_1.*bn_stats='load'"):
        load_keras_vae("shapes3d", tmp_path / "e.h5", tmp_path / "d.h5")
    back = load_keras_vae("shapes3d", tmp_path / "e.h5", tmp_path / "d.h5", bn_stats="load")
    np.testing.assert_array_equal(back.buffers["encoder.bn2.moving_mean"], 0.5)


def test_wrong_architecture_is_refused(tmp_path):
    vae = ARCHITECTURES["mnist"](rng=0, latent_dim=5)
    save_keras_h5(vae, tmp_path / "e.h5", tmp_path / "d.h5")
    with pytest.raises(ValueError, match="expected 4 conv layer"):
        load_keras_vae("shapes3d", tmp_path / "e.h5", tmp_path / "d.h5")
    with pytest.raises(ValueError, match="no such file"):
        load_keras_vae("mnist", tmp_path / "missing.h5", tmp_path / "d.h5")


def test_full_model_file_reads_model_weights_group(tmp_path):
    """Keras 2 `model.save()` files keep the weights under /model_weights."""
    vae = _perturb(ARCHITECTURES["mnist"](rng=0, latent_dim=5))
    save_keras_h5(vae, tmp_path / "e.h5", tmp_path / "d.h5")
    for part in ("e", "d"):
        with h5py.File(tmp_path / f"{part}.h5", "r") as src, h5py.File(tmp_path / f"{part}_full.h5", "w") as dst:
            g = dst.create_group("model_weights")
            for k, v in src.attrs.items():
                g.attrs[k] = v
            for name in src:
                src.copy(name, g)
            dst.attrs["model_config"] = b"{}"
    back = load_keras_vae("mnist", tmp_path / "e_full.h5", tmp_path / "d_full.h5")
    for k in vae.params:
        np.testing.assert_array_equal(back.params[k], vae.params[k])


def test_convert_cli(tmp_path, capsys):
    from refmem.cli import main
    from refmem.neocortex.architectures import load_vae

    vae = _perturb(ARCHITECTURES["mnist"](rng=0, latent_dim=5))
    save_keras_h5(vae, tmp_path / "e.h5", tmp_path / "d.h5")
    out = tmp_path / "vae.npz"
    assert main(["convert", "keras", "--arch", "mnist", str(tmp_path / "e.h5"), str(tmp_path / "d.h5"),
                 "--out", str(out), "--dtype", "float64"]) == 0
    back = load_vae(out)
    assert back.dtype == np.float64
    np.testing.assert_array_equal(back.params["decoder.convt2.kernel"], vae.params["decoder.convt2.kernel"])
    assert main(["convert", "keras", "--arch", "bow", str(tmp_path / "e.h5"), str(tmp_path / "d.h5"),
                 "--out", str(tmp_path / "x.npz")]) == 2
    assert "conv layer" in capsys.readouterr().out and not (tmp_path / "x.npz").exists()


@pytest.mark.parametrize("keras3", [False, True], ids=["keras2", "keras3"])
@pytest.mark.parametrize("arch,kwargs", ARCHS, ids=[a for a, _ in ARCHS])
def test_one_file_with_nested_encoder_and_decoder(tmp_path, arch, kwargs, keras3):
    """A whole VAE saved with save_weights (nested models `encoder`, `decoder`) in one file."""
    vae = _perturb(ARCHITECTURES[arch](rng=0, **kwargs))
    path = tmp_path / ("vae.weights.h5" if keras3 else "vae.h5")
    save_keras_h5(vae, path, keras3=keras3)
    if not keras3:
        with h5py.File(path, "r") as f:
            assert [n.decode() if isinstance(n, bytes) else n for n in f.attrs["layer_names"]] == ["encoder", "decoder"]
    back = load_keras_vae(arch, path)
    for k in vae.params:
        np.testing.assert_array_equal(back.params[k], vae.params[k])
    with pytest.raises(ValueError, match="nested model|vars"):
        read_keras_weights(path, part="generator")


def test_convert_cli_one_file(tmp_path):
    from refmem.cli import main

    vae = _perturb(ARCHITECTURES["bow"](vocab_size=12, latent_dim=3, rng=0))
    save_keras_h5(vae, tmp_path / "vae.h5")
    assert main(["convert", "keras", "--arch", "bow", str(tmp_path / "vae.h5"), "--out", str(tmp_path / "v.npz")]) == 0


def test_missing_variable_is_refused(tmp_path):
    vae = ARCHITECTURES["bow"](vocab_size=12, latent_dim=3, rng=0)
    save_keras_h5(vae, tmp_path / "e.h5", tmp_path / "d.h5")
    with h5py.File(tmp_path / "d.h5", "r+") as f:
        f["dense"].attrs["weight_names"] = [b"dense/kernel:0"]
    with pytest.raises(ValueError, match=r"'dense' has no \['bias'\]"):
        load_keras_vae("bow", tmp_path / "e.h5", tmp_path / "d.h5")
