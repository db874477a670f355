"""``refmem run novelty [--config quick|paper|tiny] [--seed S] [--out DIR] [--set k=v] [--quiet] [--resume]``."""
from __future__ import annotations

from typing import List, Optional

from refmem.experiments.common import experiment_main
from refmem.experiments.novelty.config import CONFIGS

__all__ = ["main", "DESCRIPTION"]

DESCRIPTION = "novelty: familiar vs novel reconstruction error and the trace the hippocampus stores (E17)"


def main(argv: Optional[List[str]] = None) -> int:
    """Run the experiment; return 0 if every criterion passes, 1 if not."""
    from refmem.experiments.novelty.run import run

    return experiment_main(argv, "novelty", DESCRIPTION, CONFIGS, run, resume=True)
