"""``refmem run drm [--config quick|paper|tiny] [--corpus FILE] [--vae PATH] [--seed S]
[--out DIR] [--set key=value ...] [--resume] [--quiet]``."""
from __future__ import annotations

import argparse
import dataclasses
from typing import List, Optional

from refmem.config import apply_overrides

from .config import CONFIGS, validate_config

__all__ = ["main", "DESCRIPTION"]

DESCRIPTION = ("DRM false memory: text VAE + modern Hopfield network, false recall of the "
               "critical lure against list length (E15)")


def main(argv: Optional[List[str]] = None) -> int:
    """Parse arguments, run the experiment; return 0 if every criterion passes, else 1."""
    from .run import run

    p = argparse.ArgumentParser(prog="refmem run drm", description=DESCRIPTION)
    p.add_argument("--config", default="quick", choices=sorted(CONFIGS), help="preset (default quick)")
    p.add_argument("--corpus", default=None, metavar="FILE",
                   help="a real corpus: one story per line, or a CSV with columns sentence1..sentence5 "
                        "(ROCStories layout); default: the built-in synthetic corpus")
    p.add_argument("--vae", default=None, metavar="PATH", help="a trained text VAE (.npz) for this corpus")
    p.add_argument("--seed", type=int, default=None, help="seed (default: the preset's)")
    p.add_argument("--out", default=None, metavar="DIR", help="output folder (default runs/drm-CONFIG-seedS)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field (repeatable), e.g. --set corpus.lure_weight=2")
    p.add_argument("--resume", action="store_true", help="reuse the VAEs already trained in --out")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    args = p.parse_args(argv)
    try:
        cfg = apply_overrides(CONFIGS[args.config], args.overrides)
        if args.seed is not None:
            cfg = dataclasses.replace(cfg, seed=int(args.seed))
        validate_config(cfg)
    except (ValueError, TypeError) as exc:
        p.error(str(exc))
    out = args.out or f"runs/drm-{args.config}-seed{cfg.seed}"
    try:
        results = run(cfg, out, preset=args.config, corpus_file=args.corpus, vae_path=args.vae,
                      resume=args.resume, verbose=not args.quiet)
    except (FileNotFoundError, ValueError) as exc:
        if args.corpus is None and args.vae is None:
            raise
        p.exit(2, f"refmem run drm: error: {exc}\n")
    return 0 if results["passed"] else 1
