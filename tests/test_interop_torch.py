"""refmem vs the reference PyTorch modules (tests/torch_reference.py = docs/crosscheck.md)
on the same weights, float64: forward outputs and every parameter gradient of the loss."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from refmem.interop.torch import from_torch_state_dict, load_torch_state_dict, to_torch_state_dict  # noqa: E402
from refmem.neocortex.architectures import ARCHITECTURES  # noqa: E402
from torch_reference import VAE as TorchVAE  # noqa: E402

CASES = [("shapes3d", {}, (3, 64, 64, 3)), ("mnist", {}, (3, 28, 28, 1)),
         ("bow", {"vocab_size": 150, "latent_dim": 24}, (4, 150))]
TOL = 1e-10


def perturbed_vae(arch, kwargs, seed=0):
    """A float64 VAE with random biases, BN affine maps and BN moving statistics, so
    that every parameter and buffer takes part in the comparison."""
    rng = np.random.default_rng(seed)
    vae = ARCHITECTURES[arch](rng=seed, dtype=np.float64, **kwargs)
    state = vae.get_state()
    for k, v in state.items():
        if k.endswith((".bias", ".beta", ".moving_mean")):
            state[k] = v + 0.1 * rng.standard_normal(v.shape)
        elif k.endswith((".gamma", ".moving_variance")):
            state[k] = rng.uniform(0.5, 1.5, v.shape)
    vae.set_state(state)
    return vae


def _inputs(arch, shape, latent_dim, seed=1):
    rng = np.random.default_rng(seed)
    x = (rng.random(shape) < 0.1).astype(np.float64) if arch == "bow" else rng.random(shape)
    return x, rng.standard_normal((shape[0], latent_dim))


def _torch_model(arch, kwargs, vae):
    model = TorchVAE(arch, **kwargs).double().eval()  # eval(): batch norm as run
    model.load_state_dict({k: torch.from_numpy(v) for k, v in to_torch_state_dict(vae).items()})
    return model


def _nchw(x):
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if x.ndim == 4 else x)


def _rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


@pytest.mark.parametrize("arch,kwargs,shape", CASES, ids=[c[0] for c in CASES])
def test_forward_and_every_gradient_agree(arch, kwargs, shape):
    vae = perturbed_vae(arch, kwargs)
    x, eps = _inputs(arch, shape, vae.latent_dim)
    losses, grads = vae.loss_and_grads(x, eps=eps)
    mu, log_var = vae.encode(x)
    x_hat = vae.decode(mu + np.exp(0.5 * log_var) * eps)

    model = _torch_model(arch, kwargs, vae)
    total, recon, kl, t_mu, t_lv, t_xhat = model.loss(_nchw(x), torch.from_numpy(eps))
    total.backward()
    t_xhat = t_xhat.detach().numpy()
    if t_xhat.ndim == 4:
        t_xhat = t_xhat.transpose(0, 2, 3, 1)
    for ours, theirs in ((mu, t_mu), (log_var, t_lv), (x_hat, t_xhat)):
        theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
        assert theirs.shape == ours.shape
        assert np.abs(theirs - ours).max() <= TOL * max(1.0, np.abs(ours).max())
    for key, ours in (("total", total), ("recon", recon), ("kl", kl)):
        assert abs(ours.item() - losses[key]) <= TOL * max(1.0, abs(losses[key]))
    t_grads = from_torch_state_dict(vae, {n: p.grad for n, p in model.named_parameters()})
    assert sorted(t_grads) == sorted(grads)
    for name, g in grads.items():
        assert np.abs(t_grads[name] - g).max() <= TOL * max(1.0, np.abs(g).max()), name
        assert np.abs(g).max() > 0, f"{name}: zero gradient (the check would be vacuous)"


def test_nhwc_flatten_order_matters():
    """Loading the MNIST weights without the NCHW permutation gives wrong outputs."""
    vae = perturbed_vae("mnist", {})
    x, _ = _inputs("mnist", (2, 28, 28, 1), 20)
    model = TorchVAE("mnist").double().eval()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in to_torch_state_dict(vae, nchw=False).items()})
    t_mu = model.encoder(_nchw(x))[0].detach().numpy()
    assert np.abs(t_mu - vae.encode(x)[0]).max() > 1e-3


@pytest.mark.parametrize("arch,kwargs,shape", CASES, ids=[c[0] for c in CASES])
def test_torch_weights_load_into_refmem(arch, kwargs, shape):
    torch.manual_seed(0)
    model = TorchVAE(arch, **kwargs).double().eval()
    vae = ARCHITECTURES[arch](rng=5, dtype=np.float64, **kwargs)
    load_torch_state_dict(vae, model.state_dict())
    x, _ = _inputs(arch, shape, vae.latent_dim)
    t_mu = model.encoder(_nchw(x))[0].detach().numpy()
    assert _rel(vae.encode(x)[0], t_mu) < TOL
