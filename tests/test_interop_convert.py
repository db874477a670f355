"""Weight-layout conversions that need neither torch nor h5py."""
import numpy as np
import pytest

from refmem.interop._walk import hwc_to_chw_index, param_layers
from refmem.interop.torch import from_torch_state_dict, load_torch_state_dict, to_torch_state_dict, torch_name
from refmem.neocortex.architectures import ARCHITECTURES

ARCHS = [("shapes3d", {"widths": (4, 4, 8, 8), "latent_dim": 3}), ("mnist", {"latent_dim": 5}),
         ("bow", {"vocab_size": 30, "latent_dim": 4})]


@pytest.mark.parametrize("arch,kwargs", ARCHS, ids=[a for a, _ in ARCHS])
def test_state_dict_round_trip(arch, kwargs):
    vae = ARCHITECTURES[arch](rng=0, dtype=np.float64, **kwargs)
    sd = to_torch_state_dict(vae)
    back = from_torch_state_dict(vae, sd)
    for k, v in vae.params.items():
        np.testing.assert_array_equal(back[k], v)
    other = ARCHITECTURES[arch](rng=1, dtype=np.float64, **kwargs)
    load_torch_state_dict(other, sd)
    for k in vae.params:
        np.testing.assert_array_equal(other.params[k], vae.params[k])


def test_layouts_and_names():
    vae = ARCHITECTURES["mnist"](rng=0, dtype=np.float64)
    sd = to_torch_state_dict(vae)
    assert torch_name("encoder.bn1.gamma") == "encoder.bn1.weight"
    assert torch_name("decoder.bn2.moving_variance") == "decoder.bn2.running_var"
    assert sd["encoder.conv1.weight"].shape == (32, 1, 3, 3)  # OIHW
    assert sd["decoder.convt2.weight"].shape == (64, 32, 3, 3)  # ConvTranspose2d (in, out, kh, kw)
    assert sd["encoder.mu.weight"].shape == (20, 20)
    np.testing.assert_array_equal(sd["decoder.convt2.weight"][5, 7],
                                  vae.params["decoder.convt2.kernel"][:, :, 7, 5])
    # the Dense after Flatten(7, 7, 64): its NCHW columns are the NHWC rows permuted
    w_ref = vae.params["encoder.dense1.kernel"]
    w_t = sd["encoder.dense1.weight"]
    feat = np.random.default_rng(0).standard_normal((7, 7, 64))
    np.testing.assert_allclose(w_t @ feat.transpose(2, 0, 1).ravel(), feat.ravel() @ w_ref, atol=1e-12)
    # the decoder's Dense -> ReLU -> Reshape(7, 7, 64) is found past the ReLU
    entry = [e for e in param_layers(vae) if e.prefix == "decoder.dense"][0]
    assert entry.reshape_out == (7, 7, 64)
    shapes = [e for e in param_layers(ARCHITECTURES["shapes3d"](rng=0)) if e.prefix == "encoder.mu"][0]
    assert shapes.flatten_in is None  # global average pooling: no permutation


def test_hwc_to_chw_index():
    a = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    np.testing.assert_array_equal(a.ravel()[hwc_to_chw_index((2, 3, 4))], a.transpose(2, 0, 1).ravel())


def test_errors_name_the_key():
    vae = ARCHITECTURES["bow"](vocab_size=10, latent_dim=3, rng=0, dtype=np.float64)
    sd = to_torch_state_dict(vae)
    bad = dict(sd)
    del bad["encoder.mu.weight"]
    with pytest.raises(ValueError, match="encoder.mu.weight"):
        from_torch_state_dict(vae, bad)
    with pytest.raises(ValueError, match="extra.weight"):
        from_torch_state_dict(vae, {**sd, "extra.weight": np.zeros(3)})
    with pytest.raises(ValueError, match="decoder.dense.weight"):
        from_torch_state_dict(vae, {**sd, "decoder.dense.weight": np.zeros((3, 10))})
    with pytest.raises(TypeError):
        from_torch_state_dict(vae, [1, 2])
    partial = from_torch_state_dict(vae, bad, strict=False)
    assert "encoder.mu.kernel" not in partial and "decoder.dense.kernel" in partial
