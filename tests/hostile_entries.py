"""The public entry points the hostile-input fuzz calls (see ``hostile.py``), each with valid
small arguments. Models are built fresh for every call so that a call cannot leave
state behind for the next. The plain references of ``refmem.hippocampus.reference`` are
left out: they are equations written out for reading and tests, without checks."""
from __future__ import annotations

import numpy as np

from hostile import Arr, Entry, Val

import refmem
from refmem import analysis, imageio
from refmem.analysis import distortion, segmentation
from refmem.config import apply_overrides, config_from_dict
from refmem.experiments.consolidation.config import CONFIGS as CONSOLIDATION
from refmem.datasets import drm, shapes3d, transforms
from refmem.hippocampus import cues, lesion as hlesion, replay, traces
from refmem.neocortex import recall as nrecall, training
from refmem.nn import layers, losses, optim
from refmem.systems import days, extended, recall as srecall


def _vae():
    return refmem.shapes3d_vae(latent_dim=3, rng=0, widths=(2, 2, 2, 2))


def _mnist():
    return refmem.mnist_vae(latent_dim=2, rng=0)


def _net(p=None):
    p = np.random.default_rng(0).uniform(-1, 1, (6, 12)) if p is None else p
    return refmem.ModernHopfield(beta=8.0).store(p)


def _img_net():
    return replay.build_hippocampus(np.random.default_rng(1).random((5, 64, 64, 3)).astype(np.float32))


def _fit(kind, **kw):
    def call(a):
        return refmem.make_probe(kind, **kw).fit(a["X"], a["y"]).predict_proba(a["Xt"]) if kw.get("probability", True) \
            else refmem.make_probe(kind, **kw).fit(a["X"], a["y"]).predict(a["Xt"])
    return call


def _classical(a):
    net = refmem.ClassicalHopfield().store(a["patterns"])
    return net.retrieve(a["x"], mode=a["mode"], max_iter=a["max_iter"], rng=0, return_info=True), net.energy(a["x"])


def _adam(a):
    p = {"w": np.zeros(3)}
    opt = refmem.Adam(p, lr=a["lr"], beta1=a["beta1"], amsgrad=a["amsgrad"])
    opt.step({"w": a["grad"]})
    return p["w"], opt.state_dict()


def _adam_load(a):
    opt = refmem.Adam({"w": np.zeros(3)}, amsgrad=True)
    d = opt.state_dict()
    d[a["key"]] = a["value"]
    opt.load_state_dict(d)
    return opt.state_dict()


def _train_epoch(a):
    vae = _mnist()
    return training.train_epoch(vae, a["x"], refmem.Adam(vae.params, lr=a["lr"]), batch_size=a["batch_size"], rng=0)


def _fit_vae(a):
    vae = _mnist()
    return training.fit(vae, a["x"], a["epochs"], batch_size=a["batch_size"], lr=a["lr"], patience=a["patience"],
                        rng=0, optimizer=a["optimizer"])


def _layer(make, shape):
    def call(a):
        layer = make(a)
        y, cache = layer.forward(a["x"], train=a["train"], rng=0)
        return y, layer.backward(np.ones_like(y), cache)
    return call, shape


def _extended(a):
    model = extended.ExtendedModel(_vae(), a["threshold"], beta=a["beta"], max_iter=a["max_iter"], batch_size=4)
    model.store(a["stimuli"])
    return model.recall(a["cues"])


def _set_state(a):
    vae = _vae()
    st = vae.get_state()
    key = sorted(st)[a["which"] % len(st)]
    st[key] = a["value"]
    vae.set_state(st)
    return vae.get_state()


_conv, _cs = _layer(lambda a: layers.Conv2D((6, 6, 2), a["filters"], a["kernel"], strides=a["strides"],
                                            padding=a["padding"], rng=0, dtype=np.float64), (2, 6, 6, 2))
_convt, _ = _layer(lambda a: layers.Conv2DTranspose((6, 6, 2), a["filters"], a["kernel"], strides=a["strides"],
                                                    padding=a["padding"], rng=0, dtype=np.float64), None)
_dense, _ = _layer(lambda a: layers.Dense(4, a["filters"], rng=0, dtype=np.float64), None)
_bn, _ = _layer(lambda a: layers.BatchNorm((4,), mode="batch", eps=a["eps"], momentum=a["momentum"], dtype=np.float64),
                None)
_drop, _ = _layer(lambda a: layers.Dropout((4,), a["rate"], mode="batch", dtype=np.float64), None)

U = Arr((5, 8, 8, 3))  # images in [0, 1]
IM = Arr((3, 64, 64, 3), dtype=np.float32)

ENTRIES = [
    # analysis
    Entry("pca", lambda a: analysis.pca(a["X"], a["n"]), {"X": Arr((8, 4), "normal"), "n": Val(2, "int")}),
    Entry("knn_agreement", lambda a: analysis.knn_agreement(a["X"], a["y"], a["k"]),
          {"X": Arr((8, 3), "normal"), "y": Arr((8,), "labels"), "k": Val(3, "int")}),
    Entry("silhouette_score", lambda a: analysis.silhouette_score(a["X"], a["y"]),
          {"X": Arr((8, 3), "normal"), "y": Arr((8,), "labels")}),
    Entry("spearman", lambda a: analysis.spearman(a["x"], a["y"]), {"x": Arr((7,), "normal"), "y": Arr((7,), "normal")},
          nan_ok=True),
    Entry("sem", lambda a: analysis.sem(a["x"], a["ddof"], a["axis"]),
          {"x": Arr((5, 3), "normal"), "ddof": Val(1, "int"), "axis": Val(0, "int")}),
    Entry("nearest_distance", lambda a: analysis.nearest_distance(a["q"], a["r"], a["metric"], return_index=True),
          {"q": Arr((3, 5)), "r": Arr((4, 5)), "metric": Val("euclidean", "str")}),
    Entry("nearest_distance_mse", lambda a: analysis.nearest_distance(a["q"], a["r"], "mse"),
          {"q": Arr((3, 2, 2)), "r": Arr((4, 2, 2))}),
    Entry("roc_auc", lambda a: analysis.roc_auc(a["neg"], a["pos"]), {"neg": Arr((5,)), "pos": Arr((4,))}),
    Entry("recon_error", lambda a: analysis.recon_error(a["x"], a["x_hat"]), {"x": U, "x_hat": U}),
    Entry("per_image_error", lambda a: analysis.per_image_error(a["x"], a["x_hat"]), {"x": U, "x_hat": U}),
    Entry("probe_split", lambda a: analysis.probe_split(a["n"], a["n_fit"], a["n_test"], a["rng"]),
          {"n": Val(10, "int"), "n_fit": Val(4, "int"), "n_test": Val(4, "int"), "rng": Val(0, "rng")}),
    Entry("decoding_accuracy", lambda a: analysis.decoding_accuracy(a["mu"], a["y"], a["fit"], a["test"], a["kind"]),
          {"mu": Arr((12, 3), "normal"), "y": Arr((12,), "labels"), "fit": Arr((6,), "index", k=12),
           "test": Arr((5,), "index", k=12), "kind": Val("logreg", "str")}, nan_ok=True),
    Entry("svc_proba", _fit("svc", probability=True, rng=0),
          {"X": Arr((12, 3), "normal"), "y": Arr((12,), "labels", k=3), "Xt": Arr((4, 3), "normal")}),
    Entry("svc_predict", _fit("svc", probability=False),
          {"X": Arr((10, 2), "normal"), "y": Arr((10,), "labels"), "Xt": Arr((4, 2), "normal")}),
    Entry("logreg", _fit("logreg"), {"X": Arr((10, 2), "normal"), "y": Arr((10,), "labels", k=3),
                                     "Xt": Arr((4, 2), "normal")}),
    Entry("SVC_params", lambda a: refmem.SVC(C=a["C"], gamma=a["gamma"], tol=a["tol"], max_iter=2000).fit(
        a["X"], a["y"]).predict(a["X"]),
          {"C": Val(1.0, "float"), "gamma": Val(0.5, "float"), "tol": Val(1e-3, "float"), "X": Arr((8, 2), "normal"),
           "y": Arr((8,), "labels")}),
    Entry("StandardScaler", lambda a: refmem.StandardScaler().fit(a["X"]).transform(a["Xt"]),
          {"X": Arr((6, 3), "normal"), "Xt": Arr((2, 3), "normal")}),
    Entry("paired_test", lambda a: distortion.paired_test(a["before"], a["after"], a["confidence"]),
          {"before": Arr((6,), "normal"), "after": Arr((6,), "normal"), "confidence": Val(0.95, "float")}),
    Entry("class_pixel_variance", lambda a: distortion.class_pixel_variance(a["images"], a["y"]),
          {"images": U, "y": Arr((5,), "labels")}),
    Entry("prototype_distance", lambda a: distortion.prototype_distance(a["images"], a["y"]),
          {"images": U, "y": Arr((5,), "labels")}),
    Entry("kmeans", lambda a: segmentation.kmeans(a["points"], a["k"], 0, attempts=a["attempts"],
                                                  max_iter=a["max_iter"], eps=a["eps"]),
          {"points": Arr((20, 3)), "k": Val(3, "int"), "attempts": Val(2, "int"), "max_iter": Val(10, "int"),
           "eps": Val(0.2, "float")}),
    Entry("object_height", lambda a: segmentation.object_height(a["image"], 0, k=a["k"], column=a["column"],
                                                                attempts=2),
          {"image": Arr((64, 64, 3)), "k": Val(3, "int"), "column": Val(32, "int")}),
    Entry("size_change", lambda a: segmentation.size_change(a["h_in"], a["h_out"]),
          {"h_in": Arr((4,), "labels", k=9), "h_out": Arr((4,), "labels", k=9)}),
    # hippocampus
    Entry("mask_cue", lambda a: cues.mask_cue(a["p"], a["fraction"], a["rng"]),
          {"p": Arr((3, 10), "sym"), "fraction": Val(0.3, "float"), "rng": Val(0, "rng")}),
    Entry("noise_cue", lambda a: cues.noise_cue(a["p"], a["fraction"], 0, a["low"], a["high"]),
          {"p": Arr((3, 10), "sym"), "fraction": Val(0.3, "float"), "low": Val(-1.0, "float"),
           "high": Val(1.0, "float")}),
    Entry("ModernHopfield.retrieve", lambda a: refmem.ModernHopfield(a["beta"], a["normalize"]).store(a["p"]).retrieve(
        a["xi"], max_iter=a["max_iter"], tol=a["tol"], return_info=True),
          {"beta": Val(8.0, "float"), "normalize": Val(True, "bool"), "p": Arr((6, 12), "sym"),
           "xi": Arr((3, 12), "sym"),
           "max_iter": Val(5, "int"), "tol": Val(0.0, "float")}),
    Entry("ModernHopfield.energy", lambda a: refmem.ModernHopfield(a["beta"]).store(a["p"]).energy(a["xi"]),
          {"beta": Val(8.0, "float"), "p": Arr((6, 12), "sym"), "xi": Arr((2, 12), "sym")}),
    Entry("ModernHopfield.replay", lambda a: _net().replay(a["n"], a["rng"], max_iter=a["max_iter"], low=a["low"],
                                                           high=a["high"]),
          {"n": Val(4, "int"), "rng": Val(0, "rng"), "max_iter": Val(3, "int"), "low": Val(-1.0, "float"),
           "high": Val(1.0, "float")}),
    Entry("ClassicalHopfield", _classical, {"patterns": Arr((3, 16), "sym"), "x": Arr((16,), "sym"),
                                            "mode": Val("sync", "str"), "max_iter": Val(5, "int")}),
    Entry("lesion", lambda a: hlesion.lesion(_net(), hlesion.lesion_mask(6, a["fraction"], a["rng"])),
          {"fraction": Val(0.5, "float"), "rng": Val(0, "rng")}),
    Entry("replay_stats", lambda a: replay.replay_stats(a["states"], {"winner": a["winner"], "max_weight": a["w"],
                                                                      "n_iter": a["w"]}, a["p"], a["threshold"]),
          {"states": Arr((4, 6), "sym"), "winner": Arr((4,), "labels", k=3), "w": Arr((4,)), "p": Arr((3, 6), "sym"),
           "threshold": Val(0.99, "float")}),
    Entry("from_pattern", lambda a: replay.from_pattern(a["p"], a["shape"]), {"p": Arr((2, 12), "sym"),
                                                                             "shape": Val((2, 2, 3), "seq")}),
    Entry("sensory_mask", lambda a: traces.sensory_mask(traces.prediction_error(a["x"], a["x_hat"]), a["threshold"]),
          {"x": U, "x_hat": U, "threshold": Val(0.2, "float")}),
    Entry("combine", lambda a: traces.combine(a["s"], a["d"], a["tol"]), {"s": U, "d": U, "tol": Val(0.01, "float")}),
    Entry("ExtendedModel", _extended, {"threshold": Val(0.2, "float"), "beta": Val(100.0, "float"),
                                       "max_iter": Val(3, "int"), "stimuli": IM, "cues": IM}),
    # neocortex
    Entry("encode_mu", lambda a: nrecall.encode_mu(_vae(), a["x"], a["batch"]), {"x": IM, "batch": Val(2, "int")}),
    Entry("decode", lambda a: nrecall.decode(_vae(), a["z"], a["batch"]), {"z": Arr((3, 3), "normal"),
                                                                          "batch": Val(2, "int")}),
    Entry("reconstruct", lambda a: nrecall.reconstruct(_mnist(), a["x"]), {"x": Arr((2, 28, 28, 1))}),
    Entry("VAE.loss", lambda a: _mnist().loss(a["x"], rng=a["rng"]), {"x": Arr((2, 28, 28, 1)), "rng": Val(0, "rng")}),
    Entry("VAE.set_state", _set_state, {"which": Val(3, "int"), "value": Arr((2, 2))}),
    Entry("train_epoch", _train_epoch, {"x": Arr((4, 28, 28, 1)), "lr": Val(1e-3, "float"),
                                        "batch_size": Val(2, "int")}),
    Entry("fit", _fit_vae, {"x": Arr((4, 28, 28, 1)), "epochs": Val(1, "int"), "batch_size": Val(4, "int"),
                            "lr": Val(1e-3, "float"), "patience": Val(1, "int"), "optimizer": Val(None, "str")}),
    Entry("architectures", lambda a: refmem.shapes3d_vae(a["latent"], rng=a["rng"], widths=a["widths"]).latent_dim,
          {"latent": Val(2, "int"), "rng": Val(0, "rng"), "widths": Val((2, 2, 2, 2), "seq")}),
    Entry("bow_vae", lambda a: refmem.bow_vae(a["vocab"], a["latent"], rng=0).latent_dim,
          {"vocab": Val(7, "int"), "latent": Val(2, "int")}),
    # nn
    Entry("kl_normal", lambda a: losses.kl_normal(a["mu"], a["lv"], a["reduction"]),
          {"mu": Arr((2, 3), "normal"), "lv": Arr((2, 3), "normal"), "reduction": Val("sum", "str")}),
    Entry("reparameterize", lambda a: losses.reparameterize(a["mu"], a["lv"], rng=a["rng"]),
          {"mu": Arr((2, 3), "normal"), "lv": Arr((2, 3), "normal"), "rng": Val(0, "rng")}),
    Entry("bce_mean", lambda a: losses.bce_mean(a["x"], a["x_hat"]), {"x": Arr((2, 5)), "x_hat": Arr((2, 5))}),
    Entry("recon_l1", lambda a: losses.recon_l1_channel_mean(a["x"], a["x_hat"]), {"x": U, "x_hat": U}),
    Entry("mse", lambda a: losses.mse(a["x"], a["x_hat"]), {"x": Arr((2, 5)), "x_hat": Arr((2, 5))}),
    Entry("adam_step", lambda a: optim.adam_step(a["p"], a["g"], lr=a["lr"], eps=a["eps"], amsgrad=a["amsgrad"]),
          {"p": Arr((3,), "normal"), "g": Arr((3,), "normal"), "lr": Val(1e-3, "float"), "eps": Val(1e-7, "float"),
           "amsgrad": Val(True, "bool")}),
    Entry("Adam", _adam, {"lr": Val(1e-3, "float"), "beta1": Val(0.9, "float"), "amsgrad": Val(False, "bool"),
                          "grad": Arr((3,), "normal")}),
    Entry("Adam.load_state_dict", _adam_load, {"key": Val("v.w", "str"), "value": Arr((3,))}),
    Entry("Conv2D", _conv, {"filters": Val(2, "int"), "kernel": Val(3, "int"), "strides": Val(1, "int"),
                            "padding": Val("same", "str"), "x": Arr(_cs), "train": Val(True, "bool")}),
    Entry("Conv2DTranspose", _convt, {"filters": Val(2, "int"), "kernel": Val(3, "int"), "strides": Val(2, "int"),
                                      "padding": Val("same", "str"), "x": Arr(_cs), "train": Val(False, "bool")}),
    Entry("Dense", _dense, {"filters": Val(3, "int"), "x": Arr((2, 4), "normal"), "train": Val(True, "bool")}),
    Entry("BatchNorm", _bn, {"eps": Val(1e-3, "float"), "momentum": Val(0.99, "float"), "x": Arr((5, 4), "normal"),
                             "train": Val(True, "bool")}),
    Entry("Dropout", _drop, {"rate": Val(0.5, "float"), "x": Arr((5, 4), "normal"), "train": Val(True, "bool")}),
    # datasets
    Entry("noise", lambda a: transforms.noise(a["x"], a["fraction"], a["rng"], a["mode"]),
          {"x": U, "fraction": Val(0.1, "float"), "rng": Val(0, "rng"), "mode": Val("gaussian", "str")}),
    Entry("resize_bicubic", lambda a: transforms.resize_bicubic(a["x"], a["h"], a["w"]),
          {"x": U, "h": Val(5, "int"), "w": Val(11, "int")}),
    Entry("zoom", lambda a: transforms.zoom(a["x"], a["z"], quantize=a["q"]),
          {"x": U, "z": Val(80.0, "float"), "q": Val(True, "bool")}),
    Entry("add_white_squares", lambda a: transforms.add_white_squares(a["x"], a["squares"], a["size"]),
          {"x": U, "squares": Val(((0.5, 1, 2),), "seq"), "size": Val(3, "int")}),
    Entry("carmichael_stimulus", lambda a: transforms.carmichael_stimulus(
        a["image"], 0, center=a["center"], radius=a["radius"], blur_sigma=a["sigma"], quantize=a["q"]),
          {"image": Arr((2, 16, 16, 3)), "center": Val((8.0, 8.0), "seq"), "radius": Val(4.0, "float"),
           "sigma": Val(1.0, "float"), "q": Val(True, "bool")}),
    Entry("border_width", lambda a: transforms.border_width(a["z"], a["size"]),
          {"z": Val(80.0, "float"), "size": Val(64, "int")}),
    Entry("index_to_factors", lambda a: shapes3d.factors_to_index(shapes3d.index_to_factors(a["idx"])),
          {"idx": Arr((4,), "labels", k=1000)}),
    Entry("render", lambda a: shapes3d.render(a["f"], a["size"], a["ss"]),
          {"f": Arr((1, 6), "labels", k=4), "size": Val(8, "int"), "ss": Val(1, "int")}),
    Entry("hue_rgb", lambda a: shapes3d.hue_rgb(a["h"]), {"h": Arr((3,))}),
    Entry("generate_corpus", lambda a: drm.generate_corpus(a["n"], 0, lure_weight=a["w"], zipf=a["zipf"],
                                                           n_theme=a["theme"]),
          {"n": Val(3, "int"), "w": Val(1.0, "float"), "zipf": Val(0.7, "float"), "theme": Val((2, 4), "seq")}),
    Entry("BagOfWords", lambda a: drm.BagOfWords(a["max_df"], a["min_df"]).fit_transform(a["docs"]),
          {"max_df": Val(1.0, "float"), "min_df": Val(0.0, "float"), "docs": Val(["a b", "b c", "c a a"], "seq")}),
    # systems
    Entry("hippocampal_recall", lambda a: srecall.hippocampal_recall(_img_net(), a["cues"], a["max_iter"]),
          {"cues": IM, "max_iter": Val(3, "int")}),
    Entry("arbitrated_recall", lambda a: srecall.arbitrated_recall(_img_net(), _vae(), a["cues"], a["max_iter"]),
          {"cues": IM, "max_iter": Val(3, "int")}),
    Entry("exact_recovery", lambda a: srecall.exact_recovery(a["r"], a["s"], a["t"]),
          {"r": U, "s": U, "t": Val(0.99, "float")}),
    Entry("cohort_index", lambda a: days.stored_count(days.cohort_index(a["n"], a["t"]), a["day"]),
          {"n": Val(3, "int"), "t": Val(2, "int"), "day": Val(1, "int")}),
    # images and configs
    Entry("image_grid", lambda a: imageio.image_grid(a["images"], a["ncols"], a["pad"], a["pad_value"], a["scale"]),
          {"images": U, "ncols": Val(2, "int"), "pad": Val(1, "int"), "pad_value": Val(1.0, "float"),
           "scale": Val(2, "int")}),
    Entry("encode_png", lambda a: imageio.encode_png(a["img"]), {"img": Arr((4, 5, 3))}),
    Entry("apply_overrides", lambda a: apply_overrides(CONSOLIDATION["tiny"], [a["o"]]),
          {"o": Val("epochs=3", "str")}),
    Entry("config_from_dict", lambda a: config_from_dict(type(CONSOLIDATION["tiny"]),
                                                         {"e8_sizes": a["sizes"]}),
          {"sizes": Val((1, 2), "seq")}),
]
