"""``report.md`` of the Carmichael experiment: criteria and the recalled shapes."""
from __future__ import annotations

from typing import Any, Dict

from refmem._utils import atomic_write_bytes
from refmem.datasets.shapes3d import SHAPE_NAMES
from refmem.experiments.criteria import format_table

__all__ = ["write_report"]


def _names(shapes) -> str:
    return ", ".join(SHAPE_NAMES[s] for s in shapes)


def write_report(path: str, res: Dict[str, Any]) -> None:
    """Write ``report.md`` from the results dict of :func:`refmem.experiments.carmichael.run`."""
    cfg, p = res["config"], res["predicted"]
    lines = [f"# Carmichael effect (E14), `{res['preset']}` config", "",
             f"VAE: {res['vae']['source']}. Stimuli: floor hue {cfg['floor_hue']}, wall hue {cfg['wall_hue']}, "
             f"object hue {cfg['object_hue']}, scale {cfg['scale']}, orientation {cfg['orientation']}, one per shape; "
             f"blur sd {cfg['blur_sigma']} inside the disc r = {cfg['radius']} at {tuple(cfg['center'])}, one "
             f"opaque white {cfg['square_size']}x{cfg['square_size']} square at (col, row) "
             f"{[tuple(q) for q in res['square_positions']]}. Traces at threshold {cfg['threshold']}, "
             f"beta {cfg['beta']} (normalised), <= {cfg['max_iter']} updates, cues with "
             f"{cfg['cue_fraction']:.0%} of elements zeroed; seed {cfg['seed']}. Shape probe (SVC on mu) accuracy "
             f"{res['probe_accuracy']:.3f} on {cfg['probe_test']} held-out scenes. "
             f"Run time {res['timings']['total_s']:.0f} s (VAE training {res['vae']['train_s']:.0f} s).", "",
             "## Criteria", "", format_table(res["criteria"]), "",
             "Controls: `no context`, each stimulus stored with its own latent as the conceptual part (the same "
             "recall is compared with both contexts); `VAE only`, the decoded retrieved latent without the "
             "retrieved sensory elements.", "",
             "## Shapes read by the probe", "",
             "| stimulus (true shape) | clean scene | ambiguous stimulus | recall, no context | "
             + " | ".join(f"recall, context {SHAPE_NAMES[c]}" for c in cfg["contexts"]) + " |",
             "|---|---|---|---|" + "---|" * len(cfg["contexts"])]
    for i, s in enumerate(res["stimulus_shape"]):
        lines.append(f"| {SHAPE_NAMES[s]} | {SHAPE_NAMES[p['clean'][i]]} | {SHAPE_NAMES[p['stimuli'][i]]} | "
                     f"{SHAPE_NAMES[p['no_context'][i]]} | "
                     + " | ".join(SHAPE_NAMES[p[str(c)][i]] for c in cfg["contexts"]) + " |")
    cd = res["context_decoded"]
    lines += ["", f"What the contexts alone recall, g(mu(context scene)): read as "
              f"{_names(cd['shapes'])}; pixel MAE between the two {cd['mae']:.4f} (the largest difference the "
              f"conceptual part can make; it bounds E14b)."]
    lines += ["", "Hopfield winners per context: "
              + "; ".join(f"{SHAPE_NAMES[int(c)]}: {r['winner']}" for c, r in res["retrieval"].items()),
              "", "## Figure", "", "Rows: stimuli. Columns: clean scene, ambiguous stimulus, cue, recall without "
              "context, then per context: the context scene and the recall.", ""]
    lines += [f"![{f}]({f})" for f in res["figures"]]
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
