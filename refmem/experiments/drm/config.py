"""Configuration of the DRM false-memory experiment (E15 of the paper catalogue).

The config is a frozen dataclass that round-trips through JSON (:mod:`refmem.config`),
so ``refmem run drm --set corpus.lure_weight=2 --set ks=[3,9,15]`` works.

=========  ===========================================================================
preset     meaning
=========  ===========================================================================
``quick``  (default) 20,000 synthetic stories *without* background topics (V ~ 500),
           VAE trained for at most 15 epochs, the full measurement, the controls and a
           3-point sensitivity sweep; a few minutes on 2 cores. A smoke run in another
           regime (small vocabulary, short training), not the result: see docs/drm.md
``paper``  10,000 stories (ROCStories has 52,665; fewer to fit a 2-core machine), the
           paper's training (at most 100 epochs, early stopping with patience 3), a
           4-point sensitivity sweep; each VAE takes about 6 min of an idle core
``tiny``   a few hundred stories and a small latent: seconds, for tests
=========  ===========================================================================

The synthetic corpus's parameters are fixed *a priori* by corpus statistics (see
``docs/drm.md``), never fitted to the false-recall curve:

- ``lure_weight = 1``: the lure is drawn with the mean weight of its associates, so
  it is as frequent in its theme's stories as a typical associate (the critical lure
  is, by construction of DRM lists, a typical member of the theme);
- the background topics give a vocabulary of about the paper's size (4,206 words), so
  that the 300-d latent compresses the bag of words about as much as in the paper
  (about 14 words per latent dimension);
- the other story-shape parameters are those of the generator's design (theme words
  2-6 per story, cross-talk 0.3, filler 6-14).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Tuple

__all__ = ["CorpusConfig", "DRMConfig", "CONFIGS", "PAPER_CURVE", "PAPER_FULL_LIST_LURES",
           "validate_config"]

#: the paper's model curve: P(false recall of the lure) by number of studied associates
#: (final run, 400 trials per k; paper.md E15 (b))
PAPER_CURVE = {3: 0.000, 4: 0.0025, 5: 0.0025, 6: 0.0075, 7: 0.020, 8: 0.0325, 9: 0.070,
               10: 0.110, 11: 0.175, 12: 0.240, 13: 0.2975, 14: 0.3125}

#: lures the paper's model recalled (p > 0.5) after studying the full 15-word lists, with p
PAPER_FULL_LIST_LURES = {"fruit": 0.93, "chair": 0.79, "music": 0.98, "bread": 0.97,
                         "doctor": 0.96, "cold": 0.99}


@dataclass(frozen=True)
class CorpusConfig:
    """The synthetic story corpus and the vectoriser (see
    :func:`refmem.datasets.drm.generate_corpus`).

    Attributes
    ----------
    n_stories : int
        Number of stories (ROCStories has about 52.7k).
    lure_weight : float
        Lure weight relative to the mean associate weight (the co-occurrence strength).
    n_theme, n_filler, n_background : (int, int)
        Inclusive ranges of theme, filler and background-topic words per story.
    p_second : float
        Probability of 1-2 words of a second theme (topic mixing).
    zipf, filler_zipf, background_zipf : float
        Zipf exponents within a theme, the filler list and a background topic.
    n_background_topics, background_topic_size : int
        Background topics of pseudo-words (the long tail of content words).
    max_df, min_df : float
        Document-frequency window of the vocabulary (paper: 0.1 and 0.0005).
    """

    n_stories: int = 10000
    lure_weight: float = 1.0
    n_theme: Tuple[int, int] = (2, 6)
    p_second: float = 0.3
    zipf: float = 0.7
    n_filler: Tuple[int, int] = (6, 14)
    filler_zipf: float = 0.8
    n_background: Tuple[int, int] = (4, 8)
    n_background_topics: int = 200
    background_topic_size: int = 20
    background_zipf: float = 0.7
    max_df: float = 0.1
    min_df: float = 0.0005


@dataclass(frozen=True)
class DRMConfig:
    """Parameters of the DRM run (paper.md E15).

    Attributes
    ----------
    corpus : CorpusConfig
    latent_dim : int
        Latent size of the text VAE (paper: 300).
    epochs, batch_size, patience : int
        Training: at most ``epochs`` epochs of AMSGrad (``lr``), early stopping on the
        training loss with ``patience`` (paper: 100, 128, 3).
    lr : float
    sparse : bool
        Feed the bags of words as CSR matrices (same results up to summation order).
    beta : float
        Inverse temperature of the unnormalised modern Hopfield network (paper: 100).
    max_iter : int
        Cap on Hopfield updates; recall iterates to an exact fixed point and the run
        records any query that did not reach one.
    threshold : float
        A word is recalled if its decoded probability exceeds this (paper: 0.5).
    ks : tuple of int
        List lengths of the list-length measurement (paper: 3..14; 15 added).
    n_reps : int
        Repetitions per list length (paper: 20, so 400 trials per k).
    sweep_lure_weights : tuple of float
        Co-occurrence strengths of the sensitivity sweep (empty: no sweep).
    sweep_n_reps : int
        Repetitions per k in the sweep.
    controls : bool
        Run the negative controls (the decoupled corpus trains one more VAE).
    seed : int
    """

    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    latent_dim: int = 300
    epochs: int = 100
    batch_size: int = 128
    lr: float = 1e-3
    patience: int = 3
    sparse: bool = True
    beta: float = 100.0
    max_iter: int = 100
    threshold: float = 0.5
    ks: Tuple[int, ...] = tuple(range(3, 16))
    n_reps: int = 20
    sweep_lure_weights: Tuple[float, ...] = (0.5, 1.0, 2.0)
    sweep_n_reps: int = 20
    controls: bool = True
    seed: int = 0


def validate_config(cfg: DRMConfig) -> DRMConfig:
    """Check a config's values; raise ``ValueError`` naming the bad field. Returns ``cfg``."""
    if not isinstance(cfg, DRMConfig):
        raise TypeError(f"expected a DRMConfig, got {type(cfg).__name__}")
    c = cfg.corpus
    if c.n_stories < 1:
        raise ValueError(f"corpus.n_stories must be >= 1, got {c.n_stories}")
    if not (c.lure_weight >= 0) or any(not (w >= 0) for w in cfg.sweep_lure_weights):
        raise ValueError("corpus.lure_weight and sweep_lure_weights must be >= 0")
    for name in ("latent_dim", "epochs", "batch_size", "max_iter", "n_reps", "sweep_n_reps"):
        if getattr(cfg, name) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(cfg, name)}")
    if cfg.patience < 0:
        raise ValueError(f"patience must be >= 0, got {cfg.patience}")
    if not (cfg.lr > 0) or not (cfg.beta > 0):
        raise ValueError("lr and beta must be > 0")
    if not (0.0 < cfg.threshold < 1.0):
        raise ValueError(f"threshold must lie in (0, 1), got {cfg.threshold}")
    if not cfg.ks or any(k < 1 or k > 15 for k in cfg.ks) or len(set(cfg.ks)) != len(cfg.ks):
        raise ValueError(f"ks must be distinct list lengths in 1..15, got {list(cfg.ks)}")
    _check_corpus(c)
    return cfg


def _check_corpus(c: CorpusConfig) -> None:
    """The corpus generator's and the vectoriser's own checks, run on no stories."""
    from refmem.datasets.drm import BagOfWords, generate_corpus

    try:
        generate_corpus(0, 0, lure_weight=c.lure_weight, n_theme=tuple(c.n_theme), p_second=c.p_second,
                        zipf=c.zipf, n_filler=tuple(c.n_filler), filler_zipf=c.filler_zipf,
                        n_background=tuple(c.n_background), n_background_topics=c.n_background_topics,
                        background_topic_size=c.background_topic_size, background_zipf=c.background_zipf)
        BagOfWords(max_df=c.max_df, min_df=c.min_df)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"corpus: {exc}") from None
    if not c.min_df <= c.max_df:
        raise ValueError(f"corpus.min_df ({c.min_df}) must not exceed corpus.max_df ({c.max_df})")


CONFIGS = {
    "quick": DRMConfig(corpus=CorpusConfig(n_stories=20000, n_background=(0, 0)), epochs=15,
                       sweep_lure_weights=(0.25, 1.0, 2.0)),
    "paper": DRMConfig(corpus=CorpusConfig(n_stories=10000), epochs=100,
                       sweep_lure_weights=(0.25, 0.5, 1.0, 2.0)),
    "tiny": DRMConfig(corpus=CorpusConfig(n_stories=400, n_background_topics=20, min_df=0.005),
                      latent_dim=16, epochs=3, ks=(3, 9, 14, 15), n_reps=2,
                      sweep_lure_weights=(0.5, 1.0), sweep_n_reps=2),
}
