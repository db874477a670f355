"""``refmem run extended [--config quick|paper|tiny] [--vae PATH] [--seed S] [--out DIR]
[--set key=value ...]``."""
from __future__ import annotations

import argparse
import dataclasses
from typing import List, Optional

from refmem.config import apply_overrides
from refmem.experiments.extended.config import CONFIGS

__all__ = ["main", "DESCRIPTION"]

DESCRIPTION = ("extended model: sensory + conceptual hippocampal traces, hybrid recall and the "
               "error-threshold trade-off (E12-E13)")


def main(argv: Optional[List[str]] = None) -> int:
    """Parse arguments, run :func:`refmem.experiments.extended.run`, return 0 if every criterion passes, 1 if not."""
    from refmem.experiments.extended.run import run

    p = argparse.ArgumentParser(prog="refmem run extended", description=DESCRIPTION)
    p.add_argument("--config", default="quick", choices=sorted(CONFIGS), help="preset (default quick)")
    p.add_argument("--vae", default=None, metavar="PATH",
                   help="trained VAE (.npz); default: train one with `refmem run consolidation` (quick)")
    p.add_argument("--seed", type=int, default=None, help="seed of the stimuli and cues (default: the preset's)")
    p.add_argument("--out", default=None, metavar="DIR", help="output folder (default runs/extended-CONFIG-seedS)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field (repeatable), e.g. --set n_items=20")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    args = p.parse_args(argv)
    try:
        cfg = apply_overrides(CONFIGS[args.config], args.overrides)
    except ValueError as exc:
        p.error(str(exc))
    if args.seed is not None:
        cfg = dataclasses.replace(cfg, seed=int(args.seed))
    out = args.out or f"runs/extended-{args.config}-seed{cfg.seed}"
    results = run(cfg, out, vae_path=args.vae, preset=args.config, verbose=not args.quiet)
    return 0 if results["passed"] else 1
