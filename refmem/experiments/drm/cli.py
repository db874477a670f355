"""``refmem run drm [--config quick|paper|tiny] [--corpus FILE] [--vae PATH] [--seed S]
[--out DIR] [--set key=value ...] [--resume] [--quiet]``."""
from __future__ import annotations

import os
from typing import List, Optional

from refmem._errors import UsageError, exit_status, one_line
from refmem.experiments.common import Parser, add_arguments, check_out_dir
from refmem.experiments.runner import checked_config
from refmem.experiments.drm.config import CONFIGS, validate_config

__all__ = ["main", "DESCRIPTION"]

DESCRIPTION = ("DRM false memory: text VAE + modern Hopfield network, false recall of the "
               "critical lure against list length (E15)")


def main(argv: Optional[List[str]] = None) -> int:
    """Parse arguments and run the experiment; return the exit status.

    0 when the run completed (the criteria's verdicts are in the report); a wrong
    command line or config exits with status 2 (``SystemExit``, one line on stderr, as
    argparse does); 1 for a runtime failure (a damaged file, an unwritable folder).
    """
    from refmem.experiments.drm.run import run

    p = Parser(prog="refmem run drm", description=DESCRIPTION)
    add_arguments(p, CONFIGS, "drm", resume=True)
    p.add_argument("--vae", default=None, metavar="FILE",
                   help="a trained text VAE (.npz) for this corpus's vocabulary, instead of training one")
    p.add_argument("--corpus", default=None, metavar="FILE",
                   help="a real corpus: one story per line, or a CSV with columns sentence1..sentence5 "
                        "(ROCStories layout); default: the built-in synthetic corpus")
    args = p.parse_args(argv)
    try:
        cfg, out, preset = checked_config(args, CONFIGS, "drm", validate_config)
        check_out_dir(out, resume=args.resume)
        for flag, path in (("--corpus", args.corpus), ("--vae", args.vae)):
            if path is not None and not os.path.isfile(path):
                raise UsageError(f"{flag} {path}: does not exist")
    except UsageError as exc:
        p.exit(2, f"refmem run drm: error: {one_line(exc)}\n")

    def start() -> int:
        try:
            run(cfg, out, preset=preset, corpus_file=args.corpus, vae_path=args.vae, resume=args.resume,
                verbose=not args.quiet)
        except UsageError as exc:
            p.exit(2, f"refmem run drm: error: {one_line(exc)}\n")
        return 0

    return exit_status("refmem run drm", start)
