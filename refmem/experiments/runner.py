"""Plumbing shared by experiments built the same way: the CLI, the VAE of a run, the outputs.

* :func:`cli_main`: ``refmem run NAME`` for an experiment module with ``CONFIGS``, a
  ``validate_config`` and ``run(cfg, out, vae_path=..., preset=..., quiet=...)``.
* :func:`run_vae`: the VAE a run uses (given, loaded with ``--vae``, or the consolidated
  VAE of a consolidation preset), checked against the image shape the run needs.
* :func:`finish`: pass counts, ``results.json``, ``report.md`` and the closing line.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from refmem._utils import save_json
from refmem.experiments.common import add_arguments, resolve_config
from refmem.experiments.criteria import controls_fail, count_passed
from refmem.progress import format_seconds

__all__ = ["cli_main", "run_vae", "finish"]


def cli_main(argv: Optional[List[str]], name: str, description: str, configs: Mapping[str, Any],
             validate: Callable[[Any], Any], run: Callable[..., Any], *, vae: bool = True,
             resume: bool = False) -> int:
    """Parse the common flags (``--vae`` and ``--resume`` if asked for), validate the config and run.

    ``run`` receives ``vae_path=`` with ``vae`` and ``resume=`` with ``resume``.
    Returns 0 when the run completed (whatever its criteria say) and 2 for bad
    arguments or values (one line on stderr).
    """
    p = argparse.ArgumentParser(prog=f"refmem run {name}", description=description)
    add_arguments(p, configs, name, vae=vae, resume=resume)
    args = p.parse_args(argv)
    extra = {**({"vae_path": args.vae} if vae else {}), **({"resume": args.resume} if resume else {})}
    try:
        cfg, out, preset = resolve_config(args, configs, name)
        validate(cfg)
        run(cfg, out, preset=preset, quiet=args.quiet, **extra)
    except (ValueError, TypeError) as exc:
        print(f"refmem run {name}: error: {exc}", file=sys.stderr)
        return 2
    return 0


def run_vae(vae: Any, vae_path: Optional[str], preset: str, seed: int, shape: Tuple[int, ...],
            say: Callable[[str], None], quiet: bool) -> Tuple[Any, Dict[str, Any]]:
    """``(vae, info)``: ``vae`` itself, the file ``vae_path``, or the consolidated VAE of ``preset``.

    Raises ``ValueError`` when the VAE's input shape is not ``shape``.
    """
    if vae is not None:
        info = {"source": "given in memory", "path": None, "trained": False, "train_s": 0.0}
    else:
        from refmem.experiments.trained_vae import trained_vae

        vae, info = trained_vae(preset, seed, vae_path, say=say, quiet=quiet)
    if tuple(vae.input_shape) != tuple(shape):
        raise ValueError(f"the VAE must take images of shape {tuple(shape)}, got input shape "
                         f"{tuple(vae.input_shape)}")
    return vae, info


def finish(out_dir: str, res: Dict[str, Any], rows: Sequence[Dict[str, Any]],
           write_report: Callable[[str, Dict[str, Any]], None], say: Callable[[str], None]) -> Dict[str, Any]:
    """Add ``criteria``, ``passed``, ``controls_fail`` to ``res``; write ``results.json`` and ``report.md``."""
    passed, total = count_passed(rows)
    res.update(criteria=list(rows), passed=passed == total, controls_fail=controls_fail(rows))
    save_json(os.path.join(out_dir, "results.json"), res)
    write_report(os.path.join(out_dir, "report.md"), res)
    say(f"{passed}/{total} criteria pass; controls {'fail (as they must)' if res['controls_fail'] else 'PASS'}; "
        f"done in {format_seconds(res['timings']['total_s'])}; wrote {os.path.join(out_dir, 'report.md')}")
    return res
