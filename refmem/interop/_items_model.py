"""Conformance items of the model level: the three VAEs, the hippocampus, AMSGrad, the probe."""
from __future__ import annotations

from typing import List

import numpy as np

from ._items import Arrays, Item

_F = np.float64

#: the architectures of the VAE items (the text VAE with a small vocabulary)
VAE_KWARGS = {"shapes3d": {"latent_dim": 20}, "mnist": {"latent_dim": 20},
              "bow": {"vocab_size": 200, "latent_dim": 16}}
_X_SHAPE = {"shapes3d": (2, 64, 64, 3), "mnist": (3, 28, 28, 1), "bow": (4, 200)}


def build_vae(arch: str, inputs: Arrays = None, **kwargs):
    """The float64 VAE of a VAE item, with the item's ``param/...``/``buffer/...`` arrays."""
    from refmem.neocortex.architectures import ARCHITECTURES

    vae = ARCHITECTURES[arch](rng=0, dtype=_F, **(kwargs or VAE_KWARGS[arch]))
    if inputs is not None:
        vae.set_state({k: v for k, v in inputs.items() if k.startswith(("param/", "buffer/"))})
    return vae


def _vae_item(arch: str) -> Item:
    def make(rng):
        vae = build_vae(arch)
        state = vae.get_state()
        for k, v in state.items():  # every parameter and buffer non-trivial
            if k.endswith((".bias", ".beta", ".moving_mean")):
                state[k] = v + 0.1 * rng.standard_normal(v.shape)
            elif k.endswith((".gamma", ".moving_variance")):
                state[k] = rng.uniform(0.5, 1.5, v.shape)
            else:
                state[k] = v * rng.uniform(0.8, 1.2, v.shape)
        shape = _X_SHAPE[arch]
        x = (rng.random(shape) < 0.1).astype(_F) if arch == "bow" else rng.random(shape)
        return {"x": x, "eps": rng.standard_normal((shape[0], vae.latent_dim)), **state}

    def compute(inp, **_):
        vae = build_vae(arch, inp)
        losses, grads = vae.loss_and_grads(inp["x"], eps=inp["eps"])
        mu, log_var = vae.encode(inp["x"])
        z = mu + np.exp(0.5 * log_var) * inp["eps"]
        out = {"mu": mu, "log_var": log_var, "z": z, "x_hat": vae.decode(z),
               "total": np.array(losses["total"]), "recon": np.array(losses["recon"]),
               "kl": np.array(losses["kl"])}
        out.update({f"grad/{k}": g for k, g in grads.items()})
        return out

    vae = build_vae(arch)
    loss = {"shapes3d": "L1 channel mean + KL (sum over latents, batch mean)",
            "mnist": "L1 channel mean + KL (sum over latents, batch mean)",
            "bow": "mean BCE (Keras clipping) + 1e-3 x KL (mean over latents and batch)"}[arch]
    outputs = ("mu", "log_var", "z", "x_hat", "total", "recon", "kl") + tuple(f"grad/{k}" for k in vae.params)
    return Item(f"vae_{arch}", f"the {arch} VAE as run (BN as run with the given moving statistics, dropout "
                f"off): mu, log_var = encoder(x); z = mu + exp(log_var / 2) eps; x_hat = decoder(z); "
                f"loss = {loss}; grad/<param> = d total / d param (refmem parameter names and layouts)",
                make, compute, outputs, {"architecture": arch, **VAE_KWARGS[arch]})


def _hopfield(inp, beta):
    from refmem.hippocampus import ModernHopfield

    return ModernHopfield(beta=beta).store(inp["patterns"])


def _hop_make(n, d, q):
    def make(rng):
        return {"patterns": rng.uniform(-1, 1, (n, d)), "queries": rng.uniform(-1, 1, (q, d))}
    return make


def _hop_update(inp, beta, **_):
    net = _hopfield(inp, beta)
    xi = inp["queries"]
    new = net.update(xi)
    return {"update": new, "energy": net.energy(xi), "energy_after": net.energy(new)}


def _hop_retrieve(inp, beta, max_iter=10, **_):
    net = _hopfield(inp, beta)
    states, info = net.retrieve(inp["queries"], max_iter=max_iter, tol=0.0, return_info=True)
    return {"retrieved": states, "winner": info["winner"].astype(np.int64)}


def _amsgrad(inp, lr, beta1, beta2, eps):
    from refmem.nn.optim import adam_step

    param, state, traj = inp["param"], None, []
    for g in inp["grads"]:
        param, state = adam_step(param, g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps, amsgrad=True)
        traj.append(param)
    return {"params": np.stack(traj), "m": state["m"], "v": state["v"], "v_hat": state["v_hat"]}


def _svc_make(rng):
    centers = rng.standard_normal((4, 5)) * 2
    y = np.repeat(np.arange(4), 10)
    x = centers[y] + rng.standard_normal((40, 5))
    return {"x_train": x, "y_train": y.astype(np.int64),
            "x_test": centers[np.arange(12) % 4] + rng.standard_normal((12, 5)) * 1.5}


def _svc(inp, C, gamma, tol):
    from refmem.analysis.probes import SVC

    clf = SVC(C=C, gamma=gamma, tol=tol).fit(inp["x_train"], inp["y_train"])
    return {"decision": clf.decision_function(inp["x_test"]), "predict": clf.predict(inp["x_test"]).astype(np.int64)}


def model_items() -> List[Item]:
    beta = 20.0
    hop = {"beta": beta, "normalize": True}
    return [_vae_item("shapes3d"), _vae_item("mnist"), _vae_item("bow"),
            Item("hopfield_update", "modern Hopfield, patterns X (N, d) as rows, beta_eff = beta / sqrt(d): "
                 "update = softmax(beta_eff xi X^T) X; energy = -log(sum_i exp(beta_eff x_i.xi)) / beta_eff + "
                 "xi.xi / 2 + log(N) / beta_eff + M^2 / 2, M = max_i ||x_i||, before and after the update",
                 _hop_make(16, 48, 6), _hop_update, ("update", "energy", "energy_after"), hop),
            Item("hopfield_retrieve_10", "10 synchronous updates from each query (tol 0: every query runs "
                 "all 10 unless it hits an exact fixed point); winner = argmax of the last attention weights",
                 _hop_make(16, 48, 6), _hop_retrieve, ("retrieved", "winner"), {**hop, "max_iter": 10}),
            Item("hopfield_replay", "replay from given noise: the cues are i.i.d. U(-1, 1) (given as "
                 "'queries'); replay = 10 updates from each cue, as hopfield_retrieve_10",
                 _hop_make(40, 100, 25), _hop_retrieve, ("retrieved", "winner"), {**hop, "max_iter": 10}),
            Item("amsgrad", "Keras Adam(amsgrad=True) for len(grads) steps from param: lr_t = lr sqrt(1 - "
                 "b2^t) / (1 - b1^t); m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; v_hat = max(v_hat, v); "
                 "param -= lr_t m / (sqrt(v_hat) + eps); params[t] = after step t + 1",
                 lambda rng: {"param": rng.standard_normal(7),
                              "grads": rng.standard_normal((5, 7)) * np.array([1, 1, 1, 0.1, 10, 1e-3, 1.0])},
                 _amsgrad, ("params", "m", "v", "v_hat"),
                 {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-7}),
            Item("svc_decision", "RBF SVC one-vs-one (libsvm/scikit-learn), C = 1, gamma = 'scale' = 1 / "
                 "(n_features var(x_train)); decision = ovo values for pairs (0,1), (0,2), ..., positive "
                 "favours the first class; predict by ovo vote. The dual is solved to tol 1e-9, so any "
                 "exact solver agrees to ~1e-6", _svc_make, _svc, ("decision", "predict"),
                 {"C": 1.0, "gamma": "scale", "tol": 1e-9}, tol=1e-6)]
