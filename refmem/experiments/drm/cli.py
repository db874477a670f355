"""``refmem run drm [--config quick|paper|tiny] [--corpus FILE] [--vae PATH] [--seed S]
[--out DIR] [--set key=value ...] [--resume] [--quiet]``."""
from __future__ import annotations

import argparse
from typing import List, Optional

from refmem.experiments.common import add_arguments, resolve_config
from refmem.experiments.drm.config import CONFIGS, validate_config

__all__ = ["main", "DESCRIPTION"]

DESCRIPTION = ("DRM false memory: text VAE + modern Hopfield network, false recall of the "
               "critical lure against list length (E15)")


def main(argv: Optional[List[str]] = None) -> int:
    """Parse arguments, run the experiment; return 0 if every criterion passes, else 1."""
    from refmem.experiments.drm.run import run

    p = argparse.ArgumentParser(prog="refmem run drm", description=DESCRIPTION)
    add_arguments(p, CONFIGS, "drm", resume=True)
    p.add_argument("--vae", default=None, metavar="FILE",
                   help="a trained text VAE (.npz) for this corpus's vocabulary, instead of training one")
    p.add_argument("--corpus", default=None, metavar="FILE",
                   help="a real corpus: one story per line, or a CSV with columns sentence1..sentence5 "
                        "(ROCStories layout); default: the built-in synthetic corpus")
    args = p.parse_args(argv)
    try:
        cfg, out, preset = resolve_config(args, CONFIGS, "drm")
        validate_config(cfg)
    except (ValueError, TypeError) as exc:
        p.error(str(exc))
    try:
        results = run(cfg, out, preset=preset, corpus_file=args.corpus, vae_path=args.vae,
                      resume=args.resume, verbose=not args.quiet)
    except (FileNotFoundError, ValueError) as exc:
        if args.corpus is None and args.vae is None:
            raise
        p.exit(2, f"refmem run drm: error: {exc}\n")
    return 0 if results["passed"] else 1
