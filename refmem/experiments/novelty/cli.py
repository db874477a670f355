"""``refmem run novelty [--config quick|paper|tiny] [--seed S] [--out DIR] [--set k=v] [--quiet] [--resume]``."""
from __future__ import annotations

from typing import List, Optional

from refmem.experiments.runner import cli_main
from refmem.experiments.novelty.config import CONFIGS, validate_config

__all__ = ["main", "DESCRIPTION"]

DESCRIPTION = "novelty: familiar vs novel reconstruction error and the trace the hippocampus stores (E17)"


def main(argv: Optional[List[str]] = None) -> int:
    """Run the experiment; return 0 when it completed, 2 for bad arguments or values."""
    from refmem.experiments.novelty.run import run

    return cli_main(argv, "novelty", DESCRIPTION, CONFIGS, validate_config, run, vae=False, resume=True)
