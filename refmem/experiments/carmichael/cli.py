"""``refmem run carmichael [--config quick|paper|tiny] [--vae FILE] [--seed S] [--out DIR] [--set k=v] [--quiet]``."""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from refmem.experiments.carmichael.config import CONFIGS, validate_config
from refmem.experiments.common import add_arguments, resolve_config

__all__ = ["main", "DESCRIPTION"]

DESCRIPTION = ("Carmichael effect (E14): an ambiguous object is recalled as the shape of the context "
               "stored with it")


def main(argv: Optional[List[str]] = None) -> int:
    """Parse arguments and run; 0 when the run completed, 2 for bad arguments or values."""
    from refmem.experiments.carmichael.run import run

    p = argparse.ArgumentParser(prog="refmem run carmichael", description=DESCRIPTION)
    add_arguments(p, CONFIGS, "carmichael", vae=True)
    args = p.parse_args(argv)
    try:
        cfg, out, preset = resolve_config(args, CONFIGS, "carmichael")
        validate_config(cfg)
        run(cfg, out, vae_path=args.vae, preset=preset, quiet=args.quiet)
    except (ValueError, TypeError) as exc:
        print(f"refmem run carmichael: error: {exc}", file=sys.stderr)
        return 2
    return 0
