"""E16's pass rules and the measures they read.

``table[stage][fraction]`` holds recovery rates (share of recalls with cosine >= 0.99 to
the stored scene) of the VAE alone (``vae``), the Hopfield network queried with the raw
cue (``raw``) and gist-then-Hopfield (``hybrid``).
"""
from __future__ import annotations

from typing import Dict, Mapping

from refmem.experiments.criteria import Criterion

__all__ = ["criteria_for", "CRITERIA", "measures", "UNTRAINED"]

#: control: the gist of a VAE before any consolidation (its initial weights)
UNTRAINED = "untrained VAE"


def criteria_for(min_advantage: float = 0.1, min_gain_over_raw: float = 0.05):
    """The E16 criteria with the config's margins."""
    return [
        Criterion("E16a", "gist-then-Hopfield recovers the stored scene more often than the VAE alone, "
                  "at every stage", "min_hybrid_minus_vae", ">", min_advantage,
                  paper="MHN output from the VAE gist matches the original more often than the VAE output",
                  control=UNTRAINED,
                  note="least, over stages, of the difference in recovery rate at the first (25%) corruption; "
                       "the margin keeps chance retrievals from counting"),
        Criterion("E16b", "somewhere (a stage, a heavier corruption) the gist is a better query than the raw cue",
                  "best_hybrid_minus_raw", ">", min_gain_over_raw, paper="not reported (an extension)",
                  control=UNTRAINED,
                  note="largest difference in recovery rate, gist-then-Hopfield minus raw-cue query"),
    ]


#: the criteria with the default margins
CRITERIA = criteria_for()


def measures(table: Mapping[str, Mapping[str, Mapping[str, float]]], first_fraction: str) -> Dict[str, float]:
    """Scalars of E16 from ``table[stage][fraction][method]`` recovery rates."""
    if not table:
        raise ValueError("table must hold at least one stage")
    adv = [row[first_fraction]["hybrid"] - row[first_fraction]["vae"] for row in table.values()]
    gain = [cell["hybrid"] - cell["raw"] for row in table.values() for cell in row.values()]
    return {"min_hybrid_minus_vae": float(min(adv)), "best_hybrid_minus_raw": float(max(gain))}
