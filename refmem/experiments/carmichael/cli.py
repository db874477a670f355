"""``refmem run carmichael [--config quick|paper|tiny] [--vae FILE] [--seed S] [--out DIR] [--set k=v] [--quiet]``."""
from __future__ import annotations

from typing import List, Optional

from refmem.experiments.carmichael.config import CONFIGS, validate_config
from refmem.experiments.runner import cli_main

__all__ = ["main", "DESCRIPTION"]

DESCRIPTION = ("Carmichael effect (E14): an ambiguous object is recalled as the shape of the context "
               "stored with it")


def main(argv: Optional[List[str]] = None) -> int:
    """Parse arguments and run; 0 when the run completed, 2 for bad arguments or values."""
    from refmem.experiments.carmichael.run import run

    return cli_main(argv, "carmichael", DESCRIPTION, CONFIGS, validate_config, run)
