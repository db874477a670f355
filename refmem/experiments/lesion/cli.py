"""``refmem run lesion [--config quick|paper|tiny] [--seed S] [--out DIR] [--set k=v] [--quiet] [--resume]``."""
from __future__ import annotations

from typing import List, Optional

from refmem.experiments.runner import cli_main
from refmem.experiments.lesion.config import CONFIGS, validate_config

__all__ = ["main", "DESCRIPTION"]

DESCRIPTION = "memory age, hippocampal lesion and the temporal gradient (E9, a reconstruction)"


def main(argv: Optional[List[str]] = None) -> int:
    """Run the experiment; return 0 when it completed, 2 for bad arguments or values."""
    from refmem.experiments.lesion.run import run

    return cli_main(argv, "lesion", DESCRIPTION, CONFIGS, validate_config, run, vae=False, resume=True)
