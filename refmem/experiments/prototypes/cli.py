"""``refmem run prototypes [--config quick|paper|tiny] [--vae FILE] [--seed S] [--out DIR] [--set k=v] [--quiet]``."""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from refmem.experiments.common import add_arguments, resolve_config
from refmem.experiments.prototypes.config import CONFIGS, validate_config

__all__ = ["main", "DESCRIPTION"]

DESCRIPTION = "prototypical distortion (E10): recall through the MNIST VAE shrinks the variance within each digit class"


def main(argv: Optional[List[str]] = None) -> int:
    """Parse arguments and run; 0 when the run completed, 2 for bad arguments or values."""
    from refmem.experiments.prototypes.run import run

    p = argparse.ArgumentParser(prog="refmem run prototypes", description=DESCRIPTION)
    add_arguments(p, CONFIGS, "prototypes", vae=True)
    args = p.parse_args(argv)
    try:
        cfg, out, preset = resolve_config(args, CONFIGS, "prototypes")
        validate_config(cfg)
        run(cfg, out, vae_path=args.vae, preset=preset, quiet=args.quiet)
    except (ValueError, TypeError) as exc:
        print(f"refmem run prototypes: error: {exc}", file=sys.stderr)
        return 2
    return 0
