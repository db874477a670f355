"""Extended model (docs/paper-experiments.md, E12-E13): hippocampal traces of sensory (poorly predicted)
plus conceptual (latent) features, hybrid recall, and the error-threshold trade-off.

Modules: :mod:`~refmem.hippocampus.traces` (trace construction, combination rule),
:mod:`~refmem.systems.extended` (storage, recall with every stage exposed),
:mod:`~refmem.experiments.extended.sweep` (threshold sweep and statistics),
:mod:`~refmem.experiments.extended.report` (criteria, report, figures),
:mod:`~refmem.experiments.extended.run` (``run``), :mod:`~refmem.experiments.extended.cli` (``main``).
Equations and their code: ``docs/extended.md``.
"""
from refmem.experiments.extended.cli import DESCRIPTION, main
from refmem.experiments.extended.config import CONFIGS, PAPER_SWEEP, PAPER_THRESHOLDS, ExtendedConfig, validate_config
from refmem.experiments.extended.run import run
from refmem.systems.extended import Encoding, ExtendedModel, RecallResult, encode
from refmem.hippocampus.traces import (combine, make_traces, prediction_error, sensory_mask, sensory_part,
                     split_traces, vae_decode, vae_forward)
from refmem.experiments.extended.sweep import (SweepResult, channel_count, make_cues, make_stimuli, monotonicity,
                    square_region_mask, sse, summarize, threshold_sweep)

__all__ = [
    "main", "DESCRIPTION", "CONFIGS", "run", "ExtendedConfig", "PAPER_SWEEP", "PAPER_THRESHOLDS",
    "validate_config", "ExtendedModel", "Encoding", "RecallResult", "encode", "combine",
    "make_traces", "split_traces", "prediction_error", "sensory_mask", "sensory_part",
    "vae_forward", "vae_decode", "SweepResult", "threshold_sweep", "summarize", "monotonicity",
    "make_stimuli", "make_cues", "square_region_mask", "sse", "channel_count",
]
