"""DRM word lists, a synthetic story corpus and a bag-of-words vectoriser (E15).

The paper's DRM simulation trains a text VAE on ROCStories (winter 2017, about 52.7k
five-sentence stories). **ROCStories is not openly available** (access by request form,
on no package registry), so this module replaces it with a seeded synthetic corpus
(:func:`generate_corpus`) in which every story is built around one DRM theme and the
critical lure co-occurs with its associates, as it does in free association. The
associations are therefore built in by construction; false-recall rates obtained on
this corpus are a calibration, not an independent replication. See
``docs/datasets-digits-drm-transforms.md``.

References
----------
.. [1] Spens, E. & Burgess, N. (2024). A generative model of memory construction and
   consolidation. Nat. Hum. Behav. 8, 526-543 (code: ``drm_modelling/config.py``).
.. [2] Roediger, H. L. & McDermott, K. B. (1995). Creating false memories. J. Exp.
   Psychol. Learn. Mem. Cogn. 21, 803-814; Stadler, Roediger & McDermott (1999).
"""
from __future__ import annotations

import numbers
import re
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np

from refmem._utils import as_rng, check_array

__all__ = ["DRM_LISTS", "LURES", "FILLER_WORDS", "HUMAN_FALSE_RECALL", "generate_corpus",
           "background_vocabulary", "tokenize", "BagOfWords"]

#: The paper's 20 DRM lists, lure -> 15 associates, in the order and spelling of the
#: paper's ``drm_modelling/config.py`` (the king, girl, man and black lists are left
#: out there; "villian" is misspelt in the original). Config order, not
#: associative-strength order.
DRM_LISTS: Dict[str, Tuple[str, ...]] = {
    "anger": tuple("fear temper hatred fury happy enrage emotion rage"
                   " hate mean ire mad wrath calm fight".split()),
    "thief": tuple("steal robber jail villian bandit criminal rob cop"
                   " money bad burglar crook crime gun bank".split()),
    "fruit": tuple("ripe citrus vegetable juice cocktail banana orange basket"
                   " bowl salad berry kiwi pear apple cherry".split()),
    "high": tuple("sky dive building up low over above tall"
                  " noon airplane elevate jump tower clouds cliff".split()),
    "window": tuple("sill shade screen ledge sash door view house"
                    " glass shutter frame breeze curtain pane open".split()),
    "slow": tuple("delay lethargic molasses sluggish traffic wait hesitant speed"
                  " fast listless stop snail quick turtle cautious".split()),
    "foot": tuple("hand smell toe walk kick ankle inch mouth"
                  " sandals arm yard sock boot soccer shoe".split()),
    "chair": tuple("desk cushion couch bench sit swivel sofa recliner"
                   " rocking sitting legs table seat wood stool".split()),
    "sleep": tuple("rest bed nap peace drowsy blanket doze tired"
                   " awake snooze yawn slumber snore wake dream".split()),
    "music": tuple("jazz horn concert orchestra rhythm sing piano band"
                   " note instrument art sound symphony radio melody".split()),
    "bread": tuple("flour toast jam milk rye loaf sandwich eat"
                   " butter slice dough crust food wine jelly".split()),
    "sweet": tuple("soda heart tooth tart taste sour bitter good"
                   " sugar candy nice cake pie chocolate honey".split()),
    "spider": tuple("fly insect animal ugly tarantula poison bug bite"
                    " feelers creepy web arachnid small fright crawl".split()),
    "soft": tuple("loud downy furry cotton touch light feather skin"
                  " tender plush pillow fur fluffy hard kitten".split()),
    "needle": tuple("thread point cloth sharp pin eye hurt knitting"
                    " sewing injection syringe prick thorn thimble haystack".split()),
    "mountain": tuple("climber valley summit plain hill bike peak ski"
                      " molehill goat glacier steep climb range top".split()),
    "doctor": tuple("lawyer clinic health medicine sick stethoscope cure nurse"
                    " surgeon patient hospital dentist physician ill office".split()),
    "cold": tuple("chilly hot wet winter freeze frigid heat snow"
                  " arctic air weather shiver ice frost warm".split()),
    "river": tuple("barge mississippi brook creek swim stream bridge flow"
                   " fish water run tide lake winding boat".split()),
    "rough": tuple("tough smooth ground uneven sand bumpy rugged boards"
                   " road sandpaper ready riders gravel jagged coarse".split()),
}

#: The 20 critical lures, in list order.
LURES: Tuple[str, ...] = tuple(DRM_LISTS)

#: Human false recall of the lure by number of studied associates, as hard-coded in the
#: paper's notebook (``rr_data``; presumably Robinson & Roediger 1997).
HUMAN_FALSE_RECALL: Dict[int, float] = {3: 0.03, 6: 0.11, 9: 0.19, 12: 0.27, 15: 0.31}

#: 196 everyday story words, most frequent first (Zipf rank order). None is a DRM word
#: or lure; the most frequent ones are removed by the vectoriser's max_df, as common
#: words are in the paper's ROCStories vocabulary.
FILLER_WORDS: Tuple[str, ...] = tuple("""
    day time home friend family mom dad school work car store morning night week
    year went decided wanted got made took saw found told asked looked tried started
    finally new big little old next last first great excited sad worried nervous
    surprised bought called came left played watched waited needed loved liked
    learned thought felt hours minutes weekend today yesterday later soon never
    always again game party dinner lunch breakfast trip vacation birthday gift
    present phone computer book movie show class teacher test job boss bill plan
    idea problem answer brother sister son daughter wife husband neighbor girlfriend
    boyfriend dog cat baby city town park street beach mall restaurant kitchen room
    garden kids people everyone nobody someone team group friends parents grandma
    grandpa walked drove ran ate drank cooked cleaned fixed broke lost won paid sold
    read wrote drew painted built opened closed carried picked pulled pushed laughed
    cried smiled hugged helped thanked visited remembered forgot noticed realized
    agreed promised hoped wished enjoyed missed early late long busy whole every
    another together away back box bag letter card ticket picture camera shirt dress
    price sale deal contest prize match season afternoon evening holiday summer
    spring fall
""".split())

_LURE_SET = frozenset(LURES)
_SUBJECTS = ("She", "He", "They", "We")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern


def _check_range(value, name: str, low: int) -> Tuple[int, int]:
    try:
        a, b = value
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a (min, max) pair of integers, got {value!r}") from None
    for v in (a, b):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{name} must be a (min, max) pair of integers, got {value!r}")
    if not low <= a <= b:
        raise ValueError(f"{name} must satisfy {low} <= min <= max, got {value!r}")
    return int(a), int(b)


_SYLLABLES = tuple(c + v for c in "bdfgklmnprstvz" for v in "aeiou")  # 70 syllables


def background_vocabulary(n_topics: int, topic_size: int) -> Tuple[Tuple[str, ...], ...]:
    """Pseudo-words of the background topics: ``n_topics`` tuples of ``topic_size`` words.

    Deterministic (no random state): word i (topic ``i // topic_size``) is three
    consonant-vowel syllables plus a final "k", indexed by ``(7919 i + 17) mod 70^3``
    (a bijection, so words are distinct); a word that is a DRM or filler word is
    skipped. Pseudo-words stand for the long tail of content words of real stories.
    """
    for name, v in (("n_topics", n_topics), ("topic_size", topic_size)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
    n = int(n_topics) * int(topic_size)
    if n > 300_000:
        raise ValueError(f"n_topics * topic_size must be <= 300000, got {n}")
    taken = set(LURES) | {w for ws in DRM_LISTS.values() for w in ws} | set(FILLER_WORDS)
    words, i = [], 0
    while len(words) < n:
        j = (7919 * i + 17) % 70 ** 3
        i += 1
        w = _SYLLABLES[j % 70] + _SYLLABLES[(j // 70) % 70] + _SYLLABLES[j // 4900] + "k"
        if w not in taken:
            words.append(w)
    return tuple(tuple(words[t * topic_size:(t + 1) * topic_size]) for t in range(int(n_topics)))


def _theme_probabilities(zipf: float, lure_weight: float) -> np.ndarray:
    """p over [lure, a_1, ..., a_15]: w_r = r^-zipf, w_lure = lure_weight * mean(w)."""
    w = np.arange(1, 16, dtype=np.float64) ** -zipf  # w_r = 1 / r^zipf
    p = np.concatenate([[lure_weight * w.mean()], w])  # lure as hub
    return p / p.sum()


def generate_corpus(n_stories: int, rng=None, *, lure_weight: float = 1.0,
                    n_theme: Tuple[int, int] = (2, 6), p_second: float = 0.3,
                    zipf: float = 0.7, n_filler: Tuple[int, int] = (6, 14),
                    filler_zipf: float = 0.8, n_background: Tuple[int, int] = (0, 0),
                    n_background_topics: int = 200, background_topic_size: int = 20,
                    background_zipf: float = 0.7, decouple_lures: bool = False,
                    return_themes: bool = False
                    ) -> Union[List[str], Tuple[List[str], np.ndarray]]:
    """Seeded synthetic "stories" with DRM theme structure (replaces ROCStories).

    Per story (docs/datasets-digits-drm-transforms.md):

    1. a primary theme k, uniform over the 20 lists;
    2. m ~ U{n_theme} theme words drawn without replacement from the lure and its 15
       associates with weights ``w_r = r^-zipf`` (r = position in the list) and
       ``w_lure = lure_weight * mean(w_r)``: the lure is the hub all associates point to;
    3. with probability ``p_second`` 1-2 words of a second theme (cross-talk), drawn the
       same way;
    4. f ~ U{n_filler} filler words drawn without replacement from
       :data:`FILLER_WORDS` with weights ``rank^-filler_zipf``;
    5. b ~ U{n_background} words of one background topic, uniform over
       ``n_background_topics`` topics of :func:`background_vocabulary`, drawn without
       replacement with weights ``rank^-background_zipf`` (off by default; they give
       the corpus the long tail of topic-structured content words of real text);
    6. the words shuffled into crude sentences ("She saw the chilly and the ice.").

    With ``decouple_lures`` every lure drawn in step 2 or 3 is replaced by the lure of
    a list that is neither of the story's themes (uniformly): the lures keep their
    frequency but never co-occur with their own associates (a negative control).

    Parameters
    ----------
    n_stories : int
    rng : None, int or numpy.random.Generator
    lure_weight : float, default 1.0
        Lure weight relative to the mean associate weight (>= 0).
    n_theme, n_filler : (int, int)
        Inclusive ranges of theme and filler words per story.
    p_second : float, default 0.3
    zipf, filler_zipf, background_zipf : float
        Zipf exponents of associate, filler and background weights (>= 0).
    n_background : (int, int), default (0, 0)
        Inclusive range of background-topic words per story.
    n_background_topics, background_topic_size : int
        Number and size of the background topics.
    decouple_lures : bool, default False
    return_themes : bool, default False
        Also return the themes.

    Returns
    -------
    stories : list of str
    themes : (n_stories, 2) int64 ndarray, only if ``return_themes``
        Primary theme index into :data:`LURES` and secondary index (-1 if none).
    """
    if isinstance(n_stories, bool) or not isinstance(n_stories, numbers.Integral) or n_stories < 0:
        raise ValueError(f"n_stories must be a non-negative integer, got {n_stories!r}")
    lo_t, hi_t = _check_range(n_theme, "n_theme", 1)
    if hi_t > 16:
        raise ValueError(f"n_theme max must be <= 16 (lure + 15 associates), got {hi_t}")
    lo_f, hi_f = _check_range(n_filler, "n_filler", 0)
    if hi_f > len(FILLER_WORDS):
        raise ValueError(f"n_filler max must be <= {len(FILLER_WORDS)}, got {hi_f}")
    lo_b, hi_b = _check_range(n_background, "n_background", 0)
    background = background_vocabulary(n_background_topics, background_topic_size) if hi_b else ()
    if hi_b and (not background or hi_b > background_topic_size):
        raise ValueError(f"n_background max must be <= background_topic_size "
                         f"({background_topic_size}) and n_background_topics >= 1")
    for name, v in (("lure_weight", lure_weight), ("zipf", zipf), ("filler_zipf", filler_zipf),
                    ("background_zipf", background_zipf)):
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be finite and >= 0, got {v!r}")
    if not 0.0 <= p_second <= 1.0:
        raise ValueError(f"p_second must be in [0, 1], got {p_second!r}")
    gen = as_rng(rng)
    p_theme = _theme_probabilities(float(zipf), float(lure_weight))
    p_fill = np.arange(1, len(FILLER_WORDS) + 1, dtype=np.float64) ** -float(filler_zipf)
    p_fill /= p_fill.sum()
    p_bg = np.arange(1, background_topic_size + 1, dtype=np.float64) ** -float(background_zipf)
    p_bg /= p_bg.sum()
    n_lists = len(LURES)
    words_of = [(lure,) + DRM_LISTS[lure] for lure in LURES]

    stories, themes = [], np.full((n_stories, 2), -1, dtype=np.int64)
    for s in range(n_stories):
        k = int(gen.integers(n_lists))
        m = int(gen.integers(lo_t, hi_t + 1))
        m = min(m, int(np.count_nonzero(p_theme)))
        words = [words_of[k][i] for i in gen.choice(16, size=m, replace=False, p=p_theme)]
        themes[s, 0] = k
        if gen.random() < p_second:
            k2 = int((k + 1 + gen.integers(n_lists - 1)) % n_lists)  # any other theme
            m2 = min(int(gen.integers(1, 3)), int(np.count_nonzero(p_theme)))
            words += [words_of[k2][i] for i in gen.choice(16, size=m2, replace=False, p=p_theme)]
            themes[s, 1] = k2
        if decouple_lures:  # a lure only ever appears with the words of other lists
            others = [j for j in range(n_lists) if j not in themes[s]]
            words = [LURES[others[int(gen.integers(len(others)))]] if w in _LURE_SET else w
                     for w in words]
        f = int(gen.integers(lo_f, hi_f + 1))
        picks = gen.choice(len(FILLER_WORDS), size=f, replace=False, p=p_fill)
        words += [FILLER_WORDS[i] for i in picks]
        if hi_b:
            topic = background[int(gen.integers(len(background)))]
            b = int(gen.integers(lo_b, hi_b + 1))
            words += [topic[i] for i in gen.choice(len(topic), size=b, replace=False, p=p_bg)]
        stories.append(_sentences(words, gen))
    return (stories, themes) if return_themes else stories


def _sentences(words: List[str], gen: np.random.Generator) -> str:
    """Shuffle ``words`` into crude sentences of 2-3 content words each."""
    order = gen.permutation(len(words))
    words = [words[i] for i in order]
    out, i = [], 0
    while i < len(words):
        n = int(gen.integers(2, 4))
        chunk = words[i:i + n]
        i += n
        subj = _SUBJECTS[int(gen.integers(len(_SUBJECTS)))]
        out.append(f"{subj} {chunk[0]}" + "".join(
            (" the " if j == 1 else " and the ") + w for j, w in enumerate(chunk[1:], 1)) + ".")
    return " ".join(out)


# --------------------------------------------------------------------------- bag of words
def tokenize(doc: str) -> List[str]:
    """Lowercase tokens of at least two word characters (regex ``\\b\\w\\w+\\b``), as
    scikit-learn's ``CountVectorizer`` default analyser."""
    if not isinstance(doc, str):
        raise TypeError(f"documents must be str, got {type(doc).__name__}")
    return _TOKEN.findall(doc.lower())


class BagOfWords:
    """Bag-of-words vectoriser in NumPy, following scikit-learn's ``CountVectorizer``.

    Vocabulary: all tokens (:func:`tokenize`) whose document frequency df (number of
    documents containing the token) satisfies ``min_count <= df <= max_count``, where a
    float ``max_df``/``min_df`` is a fraction of the number of documents and an int an
    absolute count; sorted alphabetically (index = rank). The paper used max_df 0.1,
    min_df 0.0005 (via ``TfidfVectorizer``), then binary counts.

    Parameters
    ----------
    max_df, min_df : float in [0, 1] or int >= 0
    binary : bool, default True
        Entries are 1 if the word occurs (else its count).
    dtype : numpy dtype, default float32

    Attributes
    ----------
    vocabulary_ : dict of str -> int
    stop_words_ : set of str
        Tokens removed by the document-frequency filter.
    """

    def __init__(self, max_df: Union[float, int] = 0.1, min_df: Union[float, int] = 0.0005,
                 binary: bool = True, dtype=np.float32):
        self.max_df = self._check_df(max_df, "max_df")
        self.min_df = self._check_df(min_df, "min_df")
        self.binary = bool(binary)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"dtype must be a float dtype, got {self.dtype}")
        self.vocabulary_: Dict[str, int] = {}
        self.stop_words_: set = set()

    @staticmethod
    def _check_df(v, name):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{name} must be a float in [0, 1] or an int >= 0, got {v!r}")
        if isinstance(v, numbers.Integral):
            if v < 0:
                raise ValueError(f"{name} must be an int >= 0 (a count), got {v}")
            return int(v)
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must be a float in [0, 1] (a fraction), got {v!r}")
        return float(v)

    @staticmethod
    def _docs(docs) -> List[str]:
        if isinstance(docs, str):
            raise TypeError("docs must be an iterable of str, not a single str")
        docs = list(docs)
        for d in docs:
            if not isinstance(d, str):
                raise TypeError(f"documents must be str, got {type(d).__name__}")
        return docs

    def fit(self, docs: Sequence[str]) -> "BagOfWords":
        """Learn the vocabulary of ``docs`` (an iterable of str)."""
        docs = self._docs(docs)
        if not docs:
            raise ValueError("docs must contain at least one document")
        df: Dict[str, int] = {}
        for d in docs:
            for tok in set(tokenize(d)):
                df[tok] = df.get(tok, 0) + 1
        n = len(docs)
        hi = self.max_df if isinstance(self.max_df, int) else self.max_df * n
        lo = self.min_df if isinstance(self.min_df, int) else self.min_df * n
        if hi < lo:
            raise ValueError(f"max_df={self.max_df} corresponds to fewer documents than "
                             f"min_df={self.min_df}")
        keep = sorted(t for t, c in df.items() if lo <= c <= hi)  # lo <= df <= hi
        if not keep:
            raise ValueError("after pruning no terms remain; try a lower min_df or a higher max_df")
        self.vocabulary_ = {t: i for i, t in enumerate(keep)}
        self.stop_words_ = set(df) - set(keep)
        return self

    def _check_fitted(self):
        if not self.vocabulary_:
            raise ValueError("BagOfWords is not fitted; call fit(docs) first")

    def transform(self, docs: Sequence[str]) -> np.ndarray:
        """(n_docs, V) matrix of word indicators (or counts); unknown words are ignored."""
        self._check_fitted()
        docs = self._docs(docs)
        out = np.zeros((len(docs), len(self.vocabulary_)), dtype=self.dtype)
        voc = self.vocabulary_
        for r, d in enumerate(docs):
            cols = [voc[t] for t in tokenize(d) if t in voc]
            if self.binary:
                out[r, cols] = 1
            else:
                np.add.at(out[r], cols, 1)
        return out

    def fit_transform(self, docs: Sequence[str]) -> np.ndarray:
        """:meth:`fit` then :meth:`transform` on the same documents."""
        docs = self._docs(docs)
        return self.fit(docs).transform(docs)

    def get_feature_names_out(self) -> np.ndarray:
        """(V,) array of vocabulary words in index order."""
        self._check_fitted()
        return np.array(list(self.vocabulary_))

    def inverse_transform(self, rows) -> List[List[str]]:
        """Words with a positive entry in each row of a (n, V) or (V,) matrix."""
        self._check_fitted()
        x = check_array(rows, "rows")
        if x.ndim == 1:
            x = x[None]
        if x.ndim != 2 or x.shape[1] != len(self.vocabulary_):
            raise ValueError(f"rows must have shape (n, {len(self.vocabulary_)}), got {x.shape}")
        names = self.get_feature_names_out()
        return [names[np.flatnonzero(r > 0)].tolist() for r in x]
