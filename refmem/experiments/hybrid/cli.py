"""``refmem run hybrid [--config quick|paper|tiny] [--seed S] [--out DIR] [--set k=v] [--quiet]``."""
from __future__ import annotations

import argparse
from typing import List, Optional

from refmem.experiments.common import add_arguments, resolve_config
from refmem.experiments.hybrid.config import CONFIGS

__all__ = ["main", "DESCRIPTION"]

DESCRIPTION = "hybrid recall: the VAE's gist queries the Hopfield network, by consolidation stage (E16)"


def main(argv: Optional[List[str]] = None) -> int:
    """Run the experiment; return 0 if every criterion passes, 1 if not.

    The staged VAEs are cached and training resumes where it stopped, so an interrupted
    run continues when started again.
    """
    from refmem.experiments.hybrid.run import run

    p = add_arguments(argparse.ArgumentParser(prog="refmem run hybrid", description=DESCRIPTION), CONFIGS,
                      "hybrid")
    args = p.parse_args(argv)
    try:
        cfg, out, preset = resolve_config(args, CONFIGS, "hybrid")
    except ValueError as exc:
        p.error(str(exc))
    res = run(cfg, out, quiet=args.quiet, preset=preset)
    return 0 if res["passed"] else 1
