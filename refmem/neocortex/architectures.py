"""The paper's three VAE architectures (Keras layouts and initialisers).

* :func:`shapes3d_vae` - the Shapes3D VAE of docs/paper-experiments.md, 1.4 (``encoder_network_large`` /
  ``decoder_network_large``), L1 channel-mean loss + KL (sum), weight 1.
* :func:`mnist_vae` - the small MNIST VAE of docs/paper-experiments.md, E10 (``build_encoder_decoder_small``).
* :func:`bow_vae` - the DRM bag-of-words text VAE of docs/paper-experiments.md, E15: mean BCE +
  1e-3 x KL (mean over latents and batch). The decoder's L1 activity regulariser
  (0.01) of the paper's code is **not** included: its custom ``train_step`` never
  added ``self.losses`` (docs/paper-experiments.md, 1.7 item 4).

Every constructor draws all initial weights from one ``rng`` (Glorot-uniform kernels,
zero biases, γ = 1, β = 0, as Keras) and records its arguments in ``vae.config`` so
:func:`load_vae` can rebuild the model. Layer names give the parameter
names listed in ``docs/neocortex.md``.
"""
from __future__ import annotations

import json
from typing import Callable, Dict

import numpy as np

from refmem._utils import as_rng
from refmem.nn.layers import (BatchNorm, Conv2D, Conv2DTranspose, Dense, Dropout, Flatten,
                     GlobalAveragePooling2D, LeakyReLU, ReLU, Reshape, Sequential, Sigmoid,
                     UpSampling2D, UpsampleConv2D)
from refmem._utils import load_npz
from refmem.neocortex.vae import FORMAT, VAE, GaussianEncoder

__all__ = ["shapes3d_vae", "mnist_vae", "bow_vae", "ARCHITECTURES", "load_vae"]


def _check_common(latent_dim, dtype, bn_mode="as_run"):
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, (int, np.integer)) or latent_dim < 1:
        raise ValueError(f"latent_dim must be a positive int, got {latent_dim!r}")
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"dtype must be a float dtype, got {dt}")
    if bn_mode not in ("as_run", "batch"):
        raise ValueError(f"bn_mode must be 'as_run' or 'batch', got {bn_mode!r}")
    return int(latent_dim), dt


def shapes3d_vae(latent_dim: int = 20, rng=None, dtype=np.float32, bn_mode: str = "as_run",
                 fused_upsample: bool = True, widths=(32, 64, 128, 256)) -> VAE:
    """The paper's Shapes3D VAE (docs/paper-experiments.md, 1.4), 64x64x3 images in [0, 1].

    Encoder: Dropout(0.2) -> 4 x [Conv 4x4 stride 2 valid (32, 64, 128, 256) -> BN ->
    LeakyReLU(0.3)] -> global average pooling -> Dense μ (L) and Dense log σ² (L).
    Decoder: Dense 4096 (linear) -> Reshape (4, 4, 256) -> 3 x [UpSample x2 -> Conv 3x3
    same (128, 64, 32) -> BN -> LeakyReLU] -> UpSample x2 -> Conv 3x3 same (3) -> sigmoid.

    Parameters
    ----------
    latent_dim : int, default 20
    rng : seed or Generator
        Source of the Glorot-uniform initial kernels.
    dtype : float dtype, default float32
    bn_mode : {"as_run", "batch"}
        Batch norm *and* dropout mode: "as_run" (what the paper ran: fixed-statistics
        BN = learnable affine map, dropout off) or "batch" (the intended variant).
    fused_upsample : bool, default True
        Compute "UpSample x2 then Conv 3x3 same" as one :class:`UpsampleConv2D` (same
        parameters and result, 2.25x fewer FLOPs) instead of two layers.
    widths : 4 ints, default (32, 64, 128, 256)
        Encoder conv widths; the decoder mirrors them (widths[2], widths[1], widths[0]).
        Reduced widths are for fast tests only.

    Returns
    -------
    VAE
        L1 channel-mean reconstruction + KL summed over latents (weight 1). Parameter
        names: ``encoder.conv{1-4}.{kernel,bias}``, ``encoder.bn{1-4}.{gamma,beta}``,
        ``encoder.mu.*``, ``encoder.log_var.*``, ``decoder.dense.*``,
        ``decoder.conv{1-4}.*``, ``decoder.bn{1-3}.*``.
    """
    latent_dim, dt = _check_common(latent_dim, dtype, bn_mode)
    widths = tuple(int(w) for w in widths)
    if len(widths) != 4 or min(widths) < 1:
        raise ValueError(f"widths must be 4 positive ints, got {widths}")
    rng = as_rng(rng)
    kw = dict(dtype=dt)
    shape = (64, 64, 3)
    enc = [Dropout(shape, 0.2, mode=bn_mode, name="dropout", **kw)]
    for i, f in enumerate(widths, start=1):
        conv = Conv2D(shape, f, 4, strides=2, padding="valid", rng=rng, name=f"conv{i}", **kw)
        shape = conv.output_shape
        enc += [conv, BatchNorm(shape, mode=bn_mode, name=f"bn{i}", **kw),
                LeakyReLU(shape, 0.3, name=f"lrelu{i}", **kw)]
    enc.append(GlobalAveragePooling2D(shape, name="gap", **kw))
    feat = widths[3]
    encoder = GaussianEncoder(Sequential(enc, name="encoder"),
                              mu=Dense(feat, latent_dim, rng=rng, name="mu", **kw),
                              log_var=Dense(feat, latent_dim, rng=rng, name="log_var", **kw))
    dec = [Dense(latent_dim, 4 * 4 * widths[3], rng=rng, name="dense", **kw),
           Reshape((4 * 4 * widths[3],), (4, 4, widths[3]), name="reshape", **kw)]
    shape = dec[-1].output_shape
    for i, f in enumerate((widths[2], widths[1], widths[0], 3), start=1):
        if fused_upsample:
            conv = UpsampleConv2D(shape, f, 3, size=2, rng=rng, name=f"conv{i}", **kw)
            dec.append(conv)
        else:
            up = UpSampling2D(shape, 2, name=f"up{i}", **kw)
            conv = Conv2D(up.output_shape, f, 3, strides=1, padding="same", rng=rng, name=f"conv{i}", **kw)
            dec += [up, conv]
        shape = conv.output_shape
        if i < 4:
            dec += [BatchNorm(shape, mode=bn_mode, name=f"bn{i}", **kw),
                    LeakyReLU(shape, 0.3, name=f"lrelu{i}", **kw)]
    dec.append(Sigmoid(shape, name="sigmoid", **kw))
    config = {"architecture": "shapes3d",
              "kwargs": {"latent_dim": latent_dim, "dtype": dt.name, "bn_mode": bn_mode,
                         "fused_upsample": bool(fused_upsample), "widths": list(widths)}}
    return VAE(encoder, Sequential(dec, name="decoder"), latent_dim, recon="l1_channel_mean",
               kl_weight=1.0, kl_reduction="sum", config=config)


def mnist_vae(latent_dim: int = 20, rng=None, dtype=np.float32, dropout_mode: str = "as_run") -> VAE:
    """The paper's small MNIST VAE (docs/paper-experiments.md, E10), 28x28x1 images in [0, 1].

    Encoder: Dropout(0.1) -> Conv 32 3x3 s2 same ReLU -> Conv 64 3x3 s2 same ReLU ->
    Flatten (3136) -> Dense 16 ReLU -> Dense 20 (linear) -> Dense μ (L), Dense log σ² (L).
    Decoder: Dense 3136 ReLU -> Reshape (7, 7, 64) -> ConvT 64 3x3 s2 same ReLU ->
    ConvT 32 3x3 s2 same ReLU -> ConvT 1 3x3 s1 same -> sigmoid. Loss as docs/paper-experiments.md, 1.5
    (sum over the 784 pixels of |x - x̂|, batch mean, + KL sum).

    Parameters
    ----------
    latent_dim : int, default 20
    rng : seed or Generator; dtype : float dtype
    dropout_mode : {"as_run", "batch"}
        "as_run": the dropout is identity, as the paper ran it (docs/paper-experiments.md, 1.7).
    """
    latent_dim, dt = _check_common(latent_dim, dtype, dropout_mode)
    rng, kw = as_rng(rng), dict(dtype=dt)
    c1 = Conv2D((28, 28, 1), 32, 3, strides=2, padding="same", rng=rng, name="conv1", **kw)
    c2 = Conv2D(c1.output_shape, 64, 3, strides=2, padding="same", rng=rng, name="conv2", **kw)
    trunk = Sequential([
        Dropout((28, 28, 1), 0.1, mode=dropout_mode, name="dropout", **kw),
        c1, ReLU(c1.output_shape, name="relu1", **kw),
        c2, ReLU(c2.output_shape, name="relu2", **kw),
        Flatten(c2.output_shape, name="flatten", **kw),
        Dense(7 * 7 * 64, 16, rng=rng, name="dense1", **kw), ReLU((16,), name="relu3", **kw),
        Dense(16, 20, rng=rng, name="dense2", **kw)], name="encoder")
    encoder = GaussianEncoder(trunk, mu=Dense(20, latent_dim, rng=rng, name="mu", **kw),
                              log_var=Dense(20, latent_dim, rng=rng, name="log_var", **kw))
    t1 = Conv2DTranspose((7, 7, 64), 64, 3, strides=2, padding="same", rng=rng, name="convt1", **kw)
    t2 = Conv2DTranspose(t1.output_shape, 32, 3, strides=2, padding="same", rng=rng, name="convt2", **kw)
    t3 = Conv2DTranspose(t2.output_shape, 1, 3, strides=1, padding="same", rng=rng, name="convt3", **kw)
    decoder = Sequential([
        Dense(latent_dim, 7 * 7 * 64, rng=rng, name="dense", **kw), ReLU((3136,), name="relu0", **kw),
        Reshape((3136,), (7, 7, 64), name="reshape", **kw),
        t1, ReLU(t1.output_shape, name="relu1", **kw),
        t2, ReLU(t2.output_shape, name="relu2", **kw),
        t3, Sigmoid(t3.output_shape, name="sigmoid", **kw)], name="decoder")
    config = {"architecture": "mnist",
              "kwargs": {"latent_dim": latent_dim, "dtype": dt.name, "dropout_mode": dropout_mode}}
    return VAE(encoder, decoder, latent_dim, recon="l1_channel_mean", kl_weight=1.0,
               kl_reduction="sum", config=config)


def bow_vae(vocab_size: int, latent_dim: int = 300, rng=None, dtype=np.float32,
            dropout_mode: str = "as_run") -> VAE:
    """The DRM text VAE (docs/paper-experiments.md, E15) on binary bag-of-words vectors.

    Encoder: μ = Dense(L)(Dropout(0.5)(x)), log σ² = Dense(L)(x) (two heads reading
    the raw input; no trunk). Decoder: Dense(V) -> sigmoid. Loss: mean BCE (over
    vocabulary and batch, Keras clipping) + 1e-3 x KL averaged over latents and batch.
    The paper's L1 activity regulariser on the decoder is not applied (it was never
    added to the loss by the paper's ``train_step``).

    Parameters
    ----------
    vocab_size : int
        V (≈ 4,206 in the paper).
    latent_dim : int, default 300
    rng : seed or Generator; dtype : float dtype
    dropout_mode : {"as_run", "batch"}
        "as_run": the dropout on the μ branch is identity, as run.
    """
    latent_dim, dt = _check_common(latent_dim, dtype, dropout_mode)
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)) or vocab_size < 1:
        raise ValueError(f"vocab_size must be a positive int, got {vocab_size!r}")
    v, rng, kw = int(vocab_size), as_rng(rng), dict(dtype=dt)
    encoder = GaussianEncoder(
        None, input_shape=(v,),
        mu=[Dropout((v,), 0.5, mode=dropout_mode, name="dropout", **kw),
            Dense(v, latent_dim, rng=rng, name="mu", **kw)],
        log_var=Dense(v, latent_dim, rng=rng, name="log_var", **kw))
    decoder = Sequential([Dense(latent_dim, v, rng=rng, name="dense", **kw),
                          Sigmoid((v,), name="sigmoid", **kw)], name="decoder")
    config = {"architecture": "bow",
              "kwargs": {"vocab_size": v, "latent_dim": latent_dim, "dtype": dt.name,
                         "dropout_mode": dropout_mode}}
    return VAE(encoder, decoder, latent_dim, recon="bce", kl_weight=1e-3, kl_reduction="mean",
               config=config)


#: architecture name (``vae.config["architecture"]``) -> constructor
ARCHITECTURES: Dict[str, Callable[..., VAE]] = {
    "shapes3d": shapes3d_vae, "mnist": mnist_vae, "bow": bow_vae}


def load_vae(path) -> VAE:
    """Load a VAE saved by :meth:`VAE.save` (``allow_pickle=False``; bit-exact).

    The architecture is rebuilt with the registered constructor and the saved
    kwargs (:data:`refmem.neocortex.architectures.ARCHITECTURES`), then its state is set.

    Raises
    ------
    ValueError
        The file is not a readable refmem VAE file: damaged, no or malformed config,
        an unknown format or architecture, sizes in the config that no stored array
        has (checked before anything is allocated), or loss settings or arrays that do
        not match the rebuilt model.
    """
    data = load_npz(path)
    if "config_json" not in data:
        raise ValueError(f"{path}: not a refmem VAE file (no config_json)")
    try:
        cfg = json.loads(str(data.pop("config_json")))
        if not isinstance(cfg, dict):
            raise ValueError("the config is not a JSON object")
    except ValueError as exc:
        raise ValueError(f"{path}: malformed VAE config ({exc})") from None
    if cfg.get("format") != FORMAT:
        raise ValueError(f"{path}: unknown format {cfg.get('format')!r}, expected {FORMAT!r}")
    model = cfg.get("model") or {}
    name = model.get("architecture")
    if name not in ARCHITECTURES:
        raise ValueError(f"{path}: architecture {name!r} is not registered "
                         f"({sorted(ARCHITECTURES)}); build the model and call load_weights")
    kwargs = model.get("kwargs", {})
    if not isinstance(kwargs, dict):
        raise ValueError(f"{path}: malformed VAE config (kwargs is not an object)")
    _check_sizes(path, kwargs, data)
    try:
        vae = ARCHITECTURES[name](**kwargs)
    except TypeError as exc:
        raise ValueError(f"{path}: the config does not fit the {name!r} architecture ({exc})") from None
    for key in ("recon", "kl_reduction", "latent_dim", "kl_weight"):
        if getattr(vae, key) != cfg.get(key):
            raise ValueError(f"{path}: saved {key}={cfg.get(key)!r} but rebuilt model has {getattr(vae, key)!r}")
    try:
        vae.set_state(data)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"{path}: the stored arrays do not match the {name!r} architecture ({exc})") from None
    return vae


def _check_sizes(path, kwargs: dict, data: dict) -> None:
    """Every size a config declares (an int, or ints in a list) must be a dimension of a stored array.

    The sizes of the paper's architectures (latent_dim, vocab_size, widths) all appear
    as dimensions of their parameters, so a config that declares sizes no stored array
    has is damaged or crafted, and is rejected before the model is allocated.
    """
    dims = {d for a in data.values() for d in np.shape(a)}
    for key, value in kwargs.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, int) and not isinstance(v, bool) and v not in dims:
                raise ValueError(f"{path}: the config declares {key}={value!r}, but no stored array has a "
                                 f"dimension of size {v}; the file is damaged or not a refmem VAE")
