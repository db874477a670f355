"""``refmem run lesion [--config quick|paper|tiny] [--seed S] [--out DIR] [--set k=v] [--quiet] [--resume]``."""
from __future__ import annotations

import argparse
from typing import List, Optional

from refmem.experiments.common import add_arguments, resolve_config
from refmem.experiments.lesion.config import CONFIGS

__all__ = ["main", "DESCRIPTION"]

DESCRIPTION = "memory age, hippocampal lesion and the temporal gradient (E9, a reconstruction)"


def main(argv: Optional[List[str]] = None) -> int:
    """Run the experiment; return 0 if every criterion passes, 1 if not."""
    from refmem.experiments.lesion.run import run

    p = add_arguments(argparse.ArgumentParser(prog="refmem run lesion", description=DESCRIPTION), CONFIGS,
                      "lesion", resume=True)
    args = p.parse_args(argv)
    try:
        cfg, out, preset = resolve_config(args, CONFIGS, "lesion")
    except ValueError as exc:
        p.error(str(exc))
    res = run(cfg, out, resume=args.resume, quiet=args.quiet, preset=preset)
    return 0 if res["passed"] else 1
