"""``refmem run lesion [--config quick|paper|tiny] [--seed S] [--out DIR] [--set k=v] [--quiet] [--resume]``."""
from __future__ import annotations

from typing import List, Optional

from refmem.experiments.common import experiment_main
from refmem.experiments.lesion.config import CONFIGS

__all__ = ["main", "DESCRIPTION"]

DESCRIPTION = "memory age, hippocampal lesion and the temporal gradient (E9, a reconstruction)"


def main(argv: Optional[List[str]] = None) -> int:
    """Run the experiment; return 0 if every criterion passes, 1 if not."""
    from refmem.experiments.lesion.run import run

    return experiment_main(argv, "lesion", DESCRIPTION, CONFIGS, run, resume=True)
