"""More public entry points for the hostile-input fuzz: the remaining layers, the systems
that train (at toy sizes), datasets, images, the PyTorch state-dict bridge."""
from __future__ import annotations

import os
import tempfile

import numpy as np

from hostile import Arr, Entry, Val
from hostile_entries import _img_net, _layer, _mnist, _vae

import refmem
from refmem import imageio
from refmem.analysis import segmentation
from refmem.config import config_to_dict
from refmem.datasets import drm, shapes3d
from refmem.hippocampus import replay
from refmem.interop import torch as itorch
from refmem.neocortex import training
from refmem.nn import layers
from refmem.progress import format_seconds
from refmem.systems import consolidation, days, extended, recall as srecall, replay_training

_TMP = tempfile.mkdtemp(prefix="refmem-fuzz-")

_up, _ = _layer(lambda a: layers.UpSampling2D((3, 3, 2), a["size"], dtype=np.float64), None)
_reshape, _ = _layer(lambda a: layers.Reshape((6,), a["target"], dtype=np.float64), None)
_sig, _ = _layer(lambda a: layers.Sigmoid((4,), dtype=np.float64), None)
_gap, _ = _layer(lambda a: layers.GlobalAveragePooling2D((3, 3, 2), dtype=np.float64), None)
_upc, _ = _layer(lambda a: layers.UpsampleConv2D((3, 3, 2), a["filters"], a["kernel"], size=a["size"], rng=0,
                                                 dtype=np.float64), None)
_leaky, _ = _layer(lambda a: layers.LeakyReLU((4,), a["alpha"], dtype=np.float64), None)


def _by_replay(a):
    return replay_training.consolidate_by_replay(_mnist(), a["memories"], 0, beta=a["beta"], max_iter=2,
                                                 n_replay=a["n_replay"], epochs=a["epochs"], batch_size=4)


def _days(a):
    vae = _vae()
    return days.consolidate_over_days(vae, refmem.Adam(vae.params), a["memories"], days.cohort_index(2, 2),
                                      epochs_per_day=a["k"], replays_per_day=a["r"], max_iter=2, batch_size=2)


def _heldout(a):
    return consolidation.measure_heldout(_vae(), a["x"], a["y"], a["fit"], a["test"], "logreg", a["n"])


def _train(a):
    vae = _vae()
    h = consolidation.train(vae, refmem.Adam(vae.params), a["x"], (a["x"], a["y"], np.arange(4), np.arange(4, 8),
                                                                   "logreg", None),
                            epochs=a["epochs"], batch_size=a["batch"], patience=a["patience"], batch_seed=0)
    return {k: v for k, v in h.items() if k != "best_loss"}  # inf before the first epoch (documented)


def _torch(a):
    vae = _mnist()
    sd = itorch.to_torch_state_dict(vae)
    key = sorted(sd)[a["which"] % len(sd)]
    sd[key] = a["value"]
    itorch.load_torch_state_dict(vae, sd, strict=a["strict"])
    return vae.get_state()


def _png(a):
    path = os.path.join(_TMP, "x.png")
    imageio.write_png(path, a["img"])
    return imageio.read_png(path)


IM = Arr((3, 64, 64, 3), dtype=np.float32)

ENTRIES_MORE = [
    Entry("UpSampling2D", _up, {"size": Val(2, "int"), "x": Arr((2, 3, 3, 2)), "train": Val(False, "bool")}),
    Entry("Reshape", _reshape, {"target": Val((2, 3), "seq"), "x": Arr((2, 6)), "train": Val(False, "bool")}),
    Entry("Sigmoid", _sig, {"x": Arr((3, 4), "normal"), "train": Val(False, "bool")}),
    Entry("GlobalAveragePooling2D", _gap, {"x": Arr((2, 3, 3, 2)), "train": Val(False, "bool")}),
    Entry("UpsampleConv2D", _upc, {"filters": Val(2, "int"), "kernel": Val(3, "int"), "size": Val(2, "int"),
                                   "x": Arr((2, 3, 3, 2)), "train": Val(False, "bool")}),
    Entry("LeakyReLU", _leaky, {"alpha": Val(0.3, "float"), "x": Arr((3, 4), "normal"), "train": Val(False, "bool")}),
    Entry("glorot_uniform", lambda a: layers.glorot_uniform(a["shape"], rng=a["rng"]),
          {"shape": Val((3, 4), "seq"), "rng": Val(0, "rng")}),
    Entry("conv2d_forward", lambda a: layers.conv2d_forward(a["x"], a["k"], a["b"], a["strides"], a["padding"])[0],
          {"x": Arr((1, 5, 5, 2)), "k": Arr((3, 3, 2, 2), "normal"), "b": Arr((2,)), "strides": Val((1, 1), "seq"),
           "padding": Val("same", "str")}),
    Entry("EarlyStopping", lambda a: training.EarlyStopping(a["patience"], a["min_delta"]).update(a["loss"]),
          {"patience": Val(3, "int"), "min_delta": Val(0.0, "float"), "loss": Val(1.0, "float")}),
    Entry("Snapshots", lambda a: training.Snapshots(a["epochs"]).epochs, {"epochs": Val((1, 3), "seq")}),
    Entry("consolidate_by_replay", _by_replay, {"memories": Arr((6, 28, 28, 1)), "beta": Val(20.0, "float"),
                                                "n_replay": Val(4, "int"), "epochs": Val(1, "int")}),
    Entry("consolidate_over_days", _days, {"memories": Arr((4, 64, 64, 3), dtype=np.float32), "k": Val(1, "int"),
                                           "r": Val(2, "int")}, nan_ok=True),  # losses NaN when k = 0 (documented)
    Entry("measure_heldout", _heldout, {"x": Arr((8, 64, 64, 3), dtype=np.float32), "y": Arr((8,), "labels"),
                                        "fit": Arr((4,), "index", k=8), "test": Arr((3,), "index", k=8),
                                        "n": Val(4, "int")}, nan_ok=True),  # accuracy NaN: one class fitted
    Entry("consolidation.train", _train, {"x": Arr((8, 64, 64, 3), dtype=np.float32), "y": Arr((8,), "labels"),
                                          "epochs": Val(1, "int"), "batch": Val(4, "int"), "patience": Val(2, "int")},
          nan_ok=True),  # decoding accuracy NaN when the fitted scenes hold one class (documented)
    Entry("extended.encode", lambda a: extended.encode(a["x"], _vae(), a["threshold"], batch_size=a["batch"]),
          {"x": IM, "threshold": Val(0.1, "float"), "batch": Val(2, "int")}),
    Entry("gist_then_hopfield", lambda a: srecall.gist_then_hopfield(_vae(), _img_net(), a["cues"], a["max_iter"]),
          {"cues": IM, "max_iter": Val(2, "int")}),
    Entry("neocortical_recall", lambda a: srecall.neocortical_recall(_vae(), a["cues"]), {"cues": IM}),
    Entry("replay_memories", lambda a: replay.replay_memories(_img_net(), a["n"], a["rng"], a["max_iter"], a["batch"]),
          {"n": Val(3, "int"), "rng": Val(0, "rng"), "max_iter": Val(2, "int"), "batch": Val(2, "int")}),
    Entry("build_hippocampus", lambda a: replay.build_hippocampus(a["m"], a["beta"], a["normalize"]).patterns,
          {"m": Arr((3, 4, 4, 3)), "beta": Val(20.0, "float"), "normalize": Val(True, "bool")}),
    Entry("sample", lambda a: shapes3d.sample(a["n"], a["rng"], a["size"], a["ss"], cache=False),
          {"n": Val(2, "int"), "rng": Val(0, "rng"), "size": Val(8, "int"), "ss": Val(1, "int")}),
    Entry("values_to_factors", lambda a: shapes3d.values_to_factors(a["v"], a["atol"]),
          {"v": Arr((2, 6)), "atol": Val(1e-3, "float")}),
    Entry("tokenize", lambda a: drm.tokenize(a["doc"]), {"doc": Val("The cat sat.", "str")}),
    Entry("background_vocabulary", lambda a: drm.background_vocabulary(a["n"], a["size"]),
          {"n": Val(2, "int"), "size": Val(3, "int")}),
    Entry("quantize_colors", lambda a: segmentation.quantize_colors(a["image"], a["k"], 0, attempts=2),
          {"image": Arr((8, 8, 3)), "k": Val(3, "int")}),
    Entry("kmeans_reference", lambda a: segmentation.kmeans_reference(a["points"], a["k"], 0, attempts=2, max_iter=5),
          {"points": Arr((12, 3)), "k": Val(2, "int")}),
    Entry("to_uint8", lambda a: imageio.to_uint8(a["img"]), {"img": Arr((4, 5, 3))}),
    Entry("png_round_trip", _png, {"img": Arr((4, 5, 3))}),
    Entry("save_grid", lambda a: imageio.save_grid(os.path.join(_TMP, "g.png"), a["images"], scale=a["scale"]),
          {"images": Arr((3, 4, 4, 3)), "scale": Val(2, "int")}),
    Entry("config_to_dict", lambda a: config_to_dict(a["cfg"]), {"cfg": Val(refmem.StandardScaler(), "str")}),
    Entry("format_seconds", lambda a: format_seconds(a["s"]), {"s": Val(75.0, "float")}),
    Entry("torch_state_dict", _torch, {"which": Val(2, "int"), "value": Arr((3, 3), "normal"),
                                       "strict": Val(True, "bool")}),
    Entry("VAE", lambda a: refmem.VAE(_vae().encoder, _vae().decoder, a["latent"], recon=a["recon"],
                                      kl_weight=a["w"]).latent_dim,
          {"latent": Val(3, "int"), "recon": Val("l1_channel_mean", "str"), "w": Val(1.0, "float")}),
]
