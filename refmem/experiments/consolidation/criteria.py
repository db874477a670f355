"""Pass rules of the consolidation effects (E1-E8), declared once, and their measures.

:func:`criteria` gives the list of :class:`~refmem.experiments.criteria.Criterion` (the
E3 thresholds come from the config fields ``min_loss_ratio``, ``min_accuracy_spearman``
and ``min_final_accuracy``); :data:`CRITERIA` is the list for the default config.
:func:`measures` reads the named scalars from a run's results, and
:func:`control_measures` the same scalars for every negative control, whose numbers
the analyses compute next to the model's (under ``"controls"`` in each analysis dict):

==============  ===========================================================================
control         broken model
==============  ===========================================================================
``blend``       hippocampus at beta = 0: every replay is the mean of all memories
``one_memory``  hippocampus that always replays the same memory
``untrained``   the VAE before training (same architecture and init seed)
``identity``    an autoencoder whose code is the image: latent interpolation = pixel blend
``constant``    a decoder that ignores z and always outputs one realistic scene
``returns_b``   E6 decoder that returns B, ``returns_c`` one that returns C
``unranked``    E7 prior samples in the order drawn, not ranked by the probe
==============  ===========================================================================

Examples
--------
>>> [c.id for c in CRITERIA][:4]
['E1a', 'E1b', 'E2a', 'E2b']
"""
from __future__ import annotations

from typing import Callable, Dict, List, Mapping, Optional, Tuple

from refmem.experiments.criteria import Criterion, finite_or_none, from_table

__all__ = ["criteria", "CRITERIA", "TABLE", "NOTES", "MEASURES", "measures", "control_measures", "CONTROLS"]

#: the negative controls, by name
CONTROLS = {
    "blend": "hippocampus at beta = 0 (replay = mean of all memories)",
    "one_memory": "hippocampus that always replays the same memory",
    "untrained": "the VAE before training (same init seed)",
    "identity": "identity autoencoder (latent interpolation = pixel blend)",
    "constant": "decoder that ignores z (always one realistic scene)",
    "returns_b": "decoder that always returns B",
    "returns_c": "decoder that always returns C",
    "unranked": "prior samples not ranked by the probe",
}

#: measure name -> (key of the analysis in the results, function of that analysis's dict)
MEASURES: Dict[str, Tuple[str, Callable[[Mapping], float]]] = {
    "e1_fraction_converged": ("replay", lambda a: a["fraction_converged"]),
    "e1_memories_reached_vs_uniform": ("replay", lambda a: a["fraction_memories_replayed"]
                                       / a["expected_fraction_replayed_uniform"]),
    "e2_recall_over_input": ("e2", lambda a: a["error_recall"] / a["error_corrupted_input"]),
    "e2_recall_over_constant": ("e2", lambda a: a["error_recall"] / a["error_mean_scene"]),
    "e3_loss_ratio": ("e3", lambda a: a["loss_ratio"]),
    "e3_accuracy_spearman": ("e3", lambda a: a["accuracy_spearman"]),
    "e3_accuracy_final": ("e3", lambda a: a["accuracy_final"]),
    "e3_final_minus_epoch1": ("e3", lambda a: a["accuracy_final"] - a["accuracy_after_epoch1"]),
    "e4_knn_mu": ("e4", lambda a: a["knn_agreement_mu"]),
    "e4_knn_mu_minus_pixels": ("e4", lambda a: a["knn_agreement_mu"] - a["knn_agreement_pixels"]),
    "e4_silhouette_mu_above_pixels_and_zero": ("e4", lambda a: a["silhouette_mu"] - max(a["silhouette_pixels"], 0.0)),
    "e5_decoded_over_blend": ("e5", lambda a: a["decoded_distance"] / a["blend_distance"]),
    "e5_steps_distinct": ("e5", lambda a: a["fraction_steps_distinct"]),
    "e5_span": ("e5", lambda a: a["span"]),
    "e5_monotonicity": ("e5", lambda a: a["monotonicity"]),
    "e6_b_value_over_chance": ("e6", lambda a: a["ratio_to_chance"]),
    "e6_c_value_over_chance": ("e6", lambda a: a["kept_c_ratio"]),
    "e7_cube_fraction": ("e7", lambda a: a["fraction_requested_by_class"]["0"]),
    "e7_cube_p_value": ("e7", lambda a: a["p_value_by_class"]["0"]),
    "e7_min_fraction_all_classes": ("e7", lambda a: a["min_fraction_requested"]),
    "e7_diversity_vs_real": ("e7", lambda a: a["min_diversity_vs_reference"]),
    "e8_min_gap_small_n": ("e8", lambda a: a["min_gap_small_n"]),
    "e8_gap_at_100": ("e8", lambda a: a["gap_at_100"]),
    "e8_depth_spearman_at_100": ("e8", lambda a: a["depth_spearman_at_100"]),
    "e8_mu_gain_over_untrained": ("e8", lambda a: a["mu_gain_over_untrained"]),
}


#: (id, effect, rule, control, the paper's value or wording); E3's thresholds are config fields
TABLE = [
    ("E1a", "replay converges to single stored memories", "e1_fraction_converged >= 0.95", "blend",
     "near-exact copies of stored images (>= 95% with cos or max weight >= 0.99)"),
    ("E1b", "replay reaches many different memories", "e1_memories_reached_vs_uniform >= 0.5", "one_memory",
     "some memories replayed several times, others never (no number)"),
    ("E2a", "recall of 10%-zeroed held-out scenes beats the corrupted input", "e2_recall_over_input < 1", "untrained",
     "below the error of the corrupted input itself"),
    ("E2b", "recall beats a constant image", "e2_recall_over_constant < 1", "untrained",
     "below the error of the same VAE before training"),
    ("E3a", "reconstruction loss falls over consolidation", "e3_loss_ratio >= {min_loss_ratio}", "untrained",
     "367.7 -> 47.3 (x7.8) over 50 epochs"),
    ("E3b", "semantic decoding accuracy rises", "e3_accuracy_spearman > {min_accuracy_spearman}", "untrained",
     "Spearman(epoch, accuracy) > 0.8; 0.381 -> 0.832"),
    ("E3c", "decoding accuracy at the end of consolidation", "e3_accuracy_final >= {min_final_accuracy}", "untrained",
     ">= 0.70 (0.832 after 50 epochs)"),
    ("E3d", "final accuracy above accuracy after epoch 1", "e3_final_minus_epoch1 > 0", "untrained",
     "0.832 > 0.269"),
    ("E4a", "latent space clusters by shape", "e4_knn_mu > 0.6", "untrained",
     "clusters by shape (t-SNE); 5-NN agreement > 0.6"),
    ("E4b", "mu clusters by shape better than pixels", "e4_knn_mu_minus_pixels >= 0.05", "untrained",
     "clusters by shape (qualitative)"),
    ("E4c", "mu clusters by shape (silhouette > 0) and more than pixels",
     "e4_silhouette_mu_above_pixels_and_zero > 0", "untrained", "silhouette(mu) > silhouette(pixels)"),
    ("E5a", "interpolated scenes are realistic", "e5_decoded_over_blend < 1", "identity",
     "smooth, realistic intermediate scenes (qualitative)"),
    ("E5b", "intermediate scenes differ from each other", "e5_steps_distinct >= 0.9", "constant",
     "smooth sequence (qualitative)"),
    ("E5c", "the decoded path spans A to B", "e5_span >= 0.5", "constant",
     "from A to B (qualitative)"),
    ("E5d", "intermediates move monotonically from A to B", "e5_monotonicity >= 0.8", "constant",
     "smooth transition (qualitative)"),
    ("E6a", "latent arithmetic transfers B's attribute", "e6_b_value_over_chance >= 2", "returns_c",
     "C transformed with B's differing attribute (qualitative; >= 2x chance)"),
    ("E6b", "latent arithmetic keeps C's other attributes", "e6_c_value_over_chance >= 2", "returns_b",
     "(the result is C, changed)"),
    ("E7a", "prior samples ranked by P(cube) decode to cubes", "e7_cube_fraction >= 0.8", "unranked",
     "top 20 by predict_proba of class 0 (cube) show the shape"),
    ("E7b", "more cubes than chance", "e7_cube_p_value < 0.05", "unranked",
     "(no test)"),
    ("E7c", "the same for every shape class", "e7_min_fraction_all_classes >= 0.8", "unranked",
     "(class 0 only in the paper's code)"),
    ("E7d", "imagined scenes are varied", "e7_diversity_vs_real >= 0.5", "constant",
     "varied, novel scenes (mean pairwise distance > 0)"),
    ("E8a", "few-shot learning from mu beats pixels", "e8_min_gap_small_n > 0", "untrained",
     "mu > pixels for every n <= 200"),
    ("E8b", "few-shot gap at n = 100", "e8_gap_at_100 >= 0.15", "untrained",
     "0.75 vs 0.335 (gap 0.415)"),
    ("E8c", "deeper layers decode shape better (n = 100)", "e8_depth_spearman_at_100 > 0.5", "untrained",
     "1.0 (monotone in depth)"),
    ("E8d", "consolidation made mu better for few-shot learning", "e8_mu_gain_over_untrained > 0", "untrained",
     "(the paper compares with pixels only)"),
]

#: what a reader needs to interpret a rule (deviations from the paper's procedure, extensions)
NOTES = {
    "E1b": "fraction of memories replayed at least once, relative to uniform sampling (1 - (1 - 1/N)^n).",
    "E2a": "held-out scenes (the paper's code showed training images).",
    "E2b": "the untrained VAE errs more than the mean scene does, so the rule compares with the mean scene (the "
           "best constant image); the untrained VAE's error is in results.json.",
    "E3a": "training recon loss, first / last epoch; the untrained control is the model before training at every "
           "epoch (a flat curve).",
    "E3b": "a constant curve has no trend: rho 0.",
    "E4b": "5-NN agreement(mu) - agreement(pixels); the untrained encoder's random features differ from pixels "
           "by -0.03 to +0.02 (SD 0.017 over seeds and presets); the margin 0.05 is about 3 SD of that.",
    "E4c": "silhouette(mu) - max(silhouette(pixels), 0): mu must cluster by shape at all (mean silhouette > 0) "
           "and more than pixels do; pixel silhouettes are slightly negative, so mu > pixels alone is met by "
           "features without clusters.",
    "E5a": "MAE to the nearest real scene, decoded intermediates / pixel blends (interior steps).",
    "E5b": "fraction of adjacent steps whose decoded images differ (MAE > 0.001).",
    "E5c": "MAE(decoded t=0, decoded t=1) / MAE(A, B).",
    "E5d": "mean over pairs of (rho(t, MAE to A) - rho(t, MAE to B)) / 2.",
    "E6a": "factor-controlled triples (A, B differ in one factor f; C has A's value of f), not the paper's "
           "same-shape A, C and random B; a probe for f reads B's value off the decoded z*.",
    "E6b": "a probe for a factor g != f on which B and C differ reads C's value off the decoded z*.",
    "E7a": "re-encoded and re-classified by the same probe (Platt-scaled SVC).",
    "E7b": "one-sided binomial test of the top samples re-classified as cube against 1 / 4.",
    "E7c": "an extension: min over classes.",
    "E7d": "min over classes of the mean pairwise MAE of the top samples / that of as many real scenes of the "
           "class.",
    "E8a": "min over n <= 200 of accuracy(mu) - accuracy(pixels).",
    "E8c": "Spearman of accuracy with depth over pixels, conv1-4 and mu; the random features of the untrained "
           "encoder also improve somewhat with depth (rho 0.12 in the quick run), so rho > 0 is not enough.",
    "E8d": "mean over n <= 200 of accuracy(mu) - accuracy(mu of the untrained VAE); the untrained encoder "
           "already decodes shape above chance, so mu > pixels alone does not show consolidation.",
}

#: config fields that set thresholds (E3)
THRESHOLD_FIELDS = ("min_loss_ratio", "min_accuracy_spearman", "min_final_accuracy")


def criteria(cfg=None) -> List[Criterion]:
    """The criteria of E1-E8; ``cfg`` (a ConsolidationConfig or its dict) sets the E3 thresholds."""
    from refmem.experiments.consolidation.config import ConsolidationConfig

    cfg = ConsolidationConfig() if cfg is None else cfg
    values = {k: cfg[k] if isinstance(cfg, Mapping) else getattr(cfg, k) for k in THRESHOLD_FIELDS}
    return from_table(TABLE, NOTES, **values)


#: the criteria with the default config's thresholds
CRITERIA = criteria()


def measures(res: Mapping, control: Optional[str] = None) -> Dict[str, Optional[float]]:
    """The named scalars of :data:`MEASURES` from a run's results (or of one control).

    Parameters
    ----------
    res : mapping
        The results of a consolidation run (``replay``, ``e2`` ... ``e8``).
    control : str, optional
        Read the control's numbers (``res[key]["controls"][control]``) instead.

    Returns
    -------
    dict
        Only the measures whose inputs exist; ``None`` for a value that is not finite.
    """
    out: Dict[str, Optional[float]] = {}
    for name, (key, fn) in MEASURES.items():
        a = res.get(key)
        if a is not None and control is not None:
            a = a.get("controls", {}).get(control)
        if a is None:
            continue
        try:
            out[name] = finite_or_none(fn(a))
        except (KeyError, ZeroDivisionError, TypeError):
            continue
    return out


def control_measures(res: Mapping) -> Dict[str, Dict[str, Optional[float]]]:
    """``{control: measures}`` for every control with numbers in the results."""
    names = {c for a in res.values() if isinstance(a, Mapping) for c in a.get("controls", {})}
    return {c: measures(res, c) for c in sorted(names)}
