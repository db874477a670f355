"""Tests of refmem.datasets.drm (DRM lists, synthetic corpus, bag of words)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refmem.datasets import drm

ALL_DRM_WORDS = set(drm.LURES) | {w for ws in drm.DRM_LISTS.values() for w in ws}


@pytest.fixture(scope="module")
def corpus():
    return drm.generate_corpus(3000, rng=0, return_themes=True)


# --------------------------------------------------------------------------- lists
def test_twenty_lists_of_fifteen_in_paper_order():
    assert drm.LURES == ("anger", "thief", "fruit", "high", "window", "slow", "foot", "chair",
                         "sleep", "music", "bread", "sweet", "spider", "soft", "needle",
                         "mountain", "doctor", "cold", "river", "rough")
    assert tuple(drm.DRM_LISTS) == drm.LURES
    for lure, words in drm.DRM_LISTS.items():
        assert isinstance(words, tuple) and len(words) == 15
        assert len(set(words)) == 15
        assert lure not in words
    assert len(ALL_DRM_WORDS) == 320  # no word is shared between lists


def test_paper_spellings_and_positions():
    assert drm.DRM_LISTS["thief"][3] == "villian"
    assert drm.DRM_LISTS["river"][1] == "mississippi"
    assert drm.DRM_LISTS["anger"][0] == "fear" and drm.DRM_LISTS["rough"][-1] == "coarse"
    assert drm.DRM_LISTS["doctor"][-1] == "office"
    for excluded in ("king", "girl", "man", "black"):
        assert excluded not in drm.DRM_LISTS


def test_filler_and_human_reference():
    assert 180 <= len(drm.FILLER_WORDS) <= 200
    assert len(set(drm.FILLER_WORDS)) == len(drm.FILLER_WORDS)
    assert not set(drm.FILLER_WORDS) & ALL_DRM_WORDS
    assert all(drm.tokenize(w) == [w] for w in drm.FILLER_WORDS)
    assert drm.HUMAN_FALSE_RECALL == {3: 0.03, 6: 0.11, 9: 0.19, 12: 0.27, 15: 0.31}


# --------------------------------------------------------------------------- corpus
def test_corpus_reproducible_by_seed_and_different_across_seeds():
    a = drm.generate_corpus(50, rng=1)
    assert a == drm.generate_corpus(50, rng=1)
    assert a != drm.generate_corpus(50, rng=2)
    assert len(a) == 50 and all(isinstance(s, str) and s.endswith(".") for s in a)
    assert drm.generate_corpus(0, rng=1) == []


def test_story_structure_matches_themes(corpus):
    stories, themes = corpus
    assert themes.shape == (3000, 2) and themes.dtype == np.int64
    for story, (k, k2) in zip(stories[:300], themes[:300]):
        toks = set(drm.tokenize(story))
        main = {drm.LURES[k], *drm.DRM_LISTS[drm.LURES[k]]}
        assert 2 <= len(toks & main) <= 6
        n_fill = len(toks & set(drm.FILLER_WORDS))
        assert 6 <= n_fill <= 14
        other = toks & ALL_DRM_WORDS - main
        if k2 < 0:
            assert not other
        else:
            assert k2 != k and 1 <= len(other) <= 2
            assert other <= {drm.LURES[k2], *drm.DRM_LISTS[drm.LURES[k2]]}
    # primary themes uniform, cross-talk in about 30% of stories
    counts = np.bincount(themes[:, 0], minlength=20)
    assert counts.min() > 100 and counts.max() < 200
    assert 0.25 < np.mean(themes[:, 1] >= 0) < 0.35


def test_lure_cooccurs_with_its_associates_more_than_chance(corpus):
    stories, _ = corpus
    bow = drm.BagOfWords(max_df=1.0, min_df=1)
    x = bow.fit_transform(stories)
    for lure, words in drm.DRM_LISTS.items():
        lure_col = x[:, bow.vocabulary_[lure]]
        has_assoc = x[:, [bow.vocabulary_[w] for w in words if w in bow.vocabulary_]].max(1) > 0
        p_cond, p_base = lure_col[has_assoc].mean(), lure_col.mean()
        assert p_cond > 3 * p_base, lure


def test_lure_weight_controls_lure_frequency():
    def lure_rate(w):
        stories = drm.generate_corpus(800, rng=3, lure_weight=w, p_second=0.0)
        return np.mean([any(t in drm.LURES for t in drm.tokenize(s)) for s in stories])
    assert lure_rate(0.0) == 0.0
    assert lure_rate(0.5) < lure_rate(1.0) < lure_rate(2.5)


@pytest.mark.parametrize("kwargs", [
    dict(n_theme=(0, 3)), dict(n_theme=(5, 2)), dict(n_theme=(2, 17)),
    dict(n_filler=(-1, 3)), dict(n_filler=(1, 500)), dict(p_second=1.5),
    dict(lure_weight=-1.0), dict(zipf=float("nan")),
])
def test_corpus_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        drm.generate_corpus(5, rng=0, **kwargs)


def test_corpus_bad_types():
    with pytest.raises(ValueError):
        drm.generate_corpus(-1, rng=0)
    with pytest.raises(TypeError):
        drm.generate_corpus(5, rng=0, n_theme=3)
    with pytest.raises(TypeError):
        drm.generate_corpus(5, rng=0, n_theme=(2.0, 3))


# --------------------------------------------------------------------------- vectoriser
def test_tokenize_like_sklearn():
    assert drm.tokenize("Id_0 I saw A cat, the CAT's 42 toys!") == \
        ["id_0", "saw", "cat", "the", "cat", "42", "toys"]
    with pytest.raises(TypeError):
        drm.tokenize(3)


def test_vocabulary_sorted_and_round_trip(corpus):
    stories, _ = corpus
    bow = drm.BagOfWords()
    x = bow.fit_transform(stories)
    words = list(bow.vocabulary_)
    assert words == sorted(words) and list(bow.vocabulary_.values()) == list(range(len(words)))
    assert x.dtype == np.float32 and x.shape == (3000, len(words))
    assert set(np.unique(x)) <= {0.0, 1.0}
    # all 320 theme words survive, the most frequent filler words do not
    assert ALL_DRM_WORDS <= set(words)
    assert "day" not in bow.vocabulary_ and "day" in bow.stop_words_
    assert "the" in bow.stop_words_
    recovered = bow.inverse_transform(x)
    for story, rec in zip(stories, recovered):
        expect = sorted({t for t in drm.tokenize(story) if t in bow.vocabulary_})
        assert rec == expect
    np.testing.assert_array_equal(bow.transform([" ".join(r) for r in recovered]), x)
    np.testing.assert_array_equal(bow.get_feature_names_out(), words)


@settings(max_examples=30)
@given(docs=st.lists(st.lists(st.sampled_from(["ab", "cd", "ef", "gh", "ij", "x"]),
                              min_size=0, max_size=6).map(" ".join), min_size=1, max_size=12),
       max_df=st.one_of(st.floats(0.0, 1.0), st.integers(0, 12)),
       min_df=st.one_of(st.floats(0.0, 1.0), st.integers(0, 12)))
def test_document_frequency_filter(docs, max_df, min_df):
    n = len(docs)
    hi = max_df if isinstance(max_df, int) else max_df * n
    lo = min_df if isinstance(min_df, int) else min_df * n
    df = {t: sum(t in drm.tokenize(d) for d in docs) for t in ["ab", "cd", "ef", "gh", "ij"]}
    expect = sorted(t for t, c in df.items() if c > 0 and lo <= c <= hi)
    bow = drm.BagOfWords(max_df=max_df, min_df=min_df)
    if hi < lo or not expect:
        with pytest.raises(ValueError):
            bow.fit(docs)
        return
    bow.fit(docs)
    assert list(bow.vocabulary_) == expect
    x = bow.transform(docs)
    for r, d in enumerate(docs):
        assert bow.inverse_transform(x[r])[0] == sorted(set(drm.tokenize(d)) & set(expect))


def test_counts_and_unknown_words():
    bow = drm.BagOfWords(max_df=1.0, min_df=1, binary=False, dtype=np.float64)
    bow.fit(["apple apple pear", "pear kiwi"])
    assert bow.vocabulary_ == {"apple": 0, "kiwi": 1, "pear": 2}
    np.testing.assert_array_equal(bow.transform(["apple apple apple banana", ""]),
                                  [[3, 0, 0], [0, 0, 0]])
    assert bow.transform(["x"]).dtype == np.float64


def test_vectoriser_bad_input():
    with pytest.raises(ValueError):
        drm.BagOfWords(max_df=1.5)
    with pytest.raises(ValueError):
        drm.BagOfWords(min_df=-1)
    with pytest.raises(TypeError):
        drm.BagOfWords(max_df="0.1")
    with pytest.raises(TypeError):
        drm.BagOfWords(dtype=np.int32)
    bow = drm.BagOfWords(max_df=1.0, min_df=1)
    with pytest.raises(ValueError):
        bow.transform(["a b"])  # not fitted
    with pytest.raises(TypeError):
        bow.fit("just one string")
    with pytest.raises(TypeError):
        bow.fit(["ok", 3])
    with pytest.raises(ValueError):
        bow.fit([])
    bow.fit(["aa bb", "bb cc"])
    with pytest.raises(ValueError):
        bow.inverse_transform(np.zeros((2, 4)))


def test_int_df_is_a_count_and_float_df_a_fraction():
    # 4 documents; df: aa 4, bb 2, cc 1. As sklearn's CountVectorizer: an int is a
    # document count, a float a fraction of the documents (1 != 1.0), bounds inclusive.
    docs = ["aa bb cc", "aa bb", "aa", "aa"]
    voc = lambda **kw: list(drm.BagOfWords(**kw).fit(docs).vocabulary_)  # noqa: E731
    assert voc(max_df=1.0, min_df=1) == ["aa", "bb", "cc"]      # 1.0 = all 4 documents
    assert voc(max_df=1, min_df=1) == ["cc"]                    # 1 = at most one document
    assert voc(max_df=2, min_df=2) == ["bb"]                    # df == 2, inclusive
    assert voc(max_df=0.5, min_df=0.5) == ["bb"]                # 0.5 * 4 = 2 documents
    assert voc(max_df=1.0, min_df=0.3) == ["aa", "bb"]          # 0.3 * 4 = 1.2 > df(cc)
    assert voc(max_df=np.float64(0.75), min_df=np.int64(2)) == ["bb"]   # numpy scalars alike
    with pytest.raises(ValueError):
        drm.BagOfWords(max_df=1, min_df=2).fit(docs)            # max count below min count


# --------------------------------------------------------------------------- background, decoupling
def test_background_vocabulary_is_deterministic_distinct_and_disjoint():
    bg = drm.background_vocabulary(200, 20)
    assert len(bg) == 200 and all(len(t) == 20 for t in bg)
    words = [w for t in bg for w in t]
    assert len(set(words)) == 4000
    assert not set(words) & (ALL_DRM_WORDS | set(drm.FILLER_WORDS))
    assert all(drm.tokenize(w) == [w] for w in words[:50])
    assert drm.background_vocabulary(200, 20) == bg
    assert drm.background_vocabulary(3, 20) == bg[:3]
    with pytest.raises(ValueError):
        drm.background_vocabulary(-1, 20)


def test_background_words_per_story():
    stories = drm.generate_corpus(200, rng=0, n_background=(4, 8))
    bg = {w for t in drm.background_vocabulary(200, 20) for w in t}
    for s in stories:
        toks = set(drm.tokenize(s)) & bg
        assert 4 <= len(toks) <= 8
    # off by default: the default corpus is unchanged
    assert drm.generate_corpus(30, rng=4) == drm.generate_corpus(30, rng=4, n_background=(0, 0))
    with pytest.raises(ValueError, match="n_background"):
        drm.generate_corpus(5, rng=0, n_background=(2, 30))


def test_decoupled_lures_never_meet_their_associates():
    normal = drm.generate_corpus(2000, rng=1)
    stories = drm.generate_corpus(2000, rng=1, decouple_lures=True)
    n_lure = 0
    for s in stories:
        toks = set(drm.tokenize(s))
        for lure in drm.LURES:
            if lure in toks:
                n_lure += 1
                assert not toks & set(drm.DRM_LISTS[lure])
    n_normal = sum(lure in set(drm.tokenize(s)) for s in normal for lure in drm.LURES)
    assert 0.85 < n_lure / n_normal < 1.15  # lure frequency kept
