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
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from refmem._errors import UsageError, exit_status, one_line
from refmem._utils import save_json
from refmem.experiments.common import Parser, add_arguments, check_out_dir, resolve_config
from refmem.experiments.criteria import controls_fail, count_passed
from refmem.progress import format_seconds

__all__ = ["cli_main", "checked_config", "run_vae", "finish"]


def cli_main(argv: Optional[List[str]], name: str, description: str, configs: Mapping[str, Any],
             validate: Callable[[Any], Any], run: Callable[..., Any], *, vae: bool = True,
             resume: bool = False) -> int:
    """Parse the common flags (``--vae`` and ``--resume`` if asked for), validate the config and run.

    ``run`` receives ``vae_path=`` with ``vae`` and ``resume=`` with ``resume``.
    Everything the command line decides is checked before any work: the whole config
    (``validate``), ``--out`` (not a file; with ``--resume`` a folder holding a run) and
    that the ``--vae`` file exists.

    Returns
    -------
    int
        0 when the run completed (whatever its criteria say), 2 for a wrong command
        line or config, 1 for a runtime failure (a damaged file, an unwritable folder,
        diverged training), 130 when interrupted; errors are one line on stderr
        (:func:`refmem._errors.exit_status`).
    """
    p = Parser(prog=f"refmem run {name}", description=description)
    add_arguments(p, configs, name, vae=vae, resume=resume)
    args = p.parse_args(argv)
    extra = {**({"vae_path": args.vae} if vae else {}), **({"resume": args.resume} if resume else {})}

    def start() -> int:
        cfg, out, preset = checked_config(args, configs, name, validate)
        check_out_dir(out, resume=bool(extra.get("resume")))
        if extra.get("vae_path") is not None and not os.path.isfile(args.vae):
            raise UsageError(f"--vae {args.vae}: no such file")
        run(cfg, out, preset=preset, quiet=args.quiet, **extra)
        return 0

    return exit_status(f"refmem run {name}", start)


def checked_config(args: argparse.Namespace, configs: Mapping[str, Any], name: str,
                   validate: Callable[[Any], Any]) -> Tuple[Any, str, str]:
    """:func:`~refmem.experiments.common.resolve_config` + ``validate``; any error is a :class:`UsageError`."""
    try:
        cfg, out, preset = resolve_config(args, configs, name)
        validate(cfg)
    except (ValueError, TypeError, OverflowError) as exc:
        raise UsageError(one_line(exc)) from None
    return cfg, out, preset


def run_vae(vae: Any, vae_path: Optional[str], preset: str, seed: int, shape: Tuple[int, ...],
            say: Callable[[str], None], quiet: bool) -> Tuple[Any, Dict[str, Any]]:
    """``(vae, info)``: ``vae`` itself, the file ``vae_path``, or the consolidated VAE of ``preset``.

    Raises :class:`~refmem._errors.UsageError` (a ``ValueError``) when the VAE's input
    shape is not ``shape``.
    """
    if vae is not None:
        info = {"source": "given in memory", "path": None, "trained": False, "train_s": 0.0}
    else:
        from refmem.experiments.trained_vae import trained_vae

        vae, info = trained_vae(preset, seed, vae_path, say=say, quiet=quiet)
    if tuple(vae.input_shape) != tuple(shape):
        raise UsageError(f"the VAE must take images of shape {tuple(shape)}, got input shape "
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
