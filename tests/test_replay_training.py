"""Consolidation by replay in one call (refmem.systems.replay_training)."""
import numpy as np
import pytest

from refmem.neocortex import mnist_vae
from refmem.systems.replay_training import consolidate_by_replay


def _digits(n=6, seed=0):
    return np.random.default_rng(seed).random((n, 28, 28, 1)).astype(np.float32)


def test_replays_train_the_vae_deterministically():
    x = _digits()
    a, b = mnist_vae(rng=0), mnist_vae(rng=0)
    ra = consolidate_by_replay(a, x, rng=5, epochs=1, batch_size=3, n_replay=9)
    consolidate_by_replay(b, x, rng=5, epochs=1, batch_size=3, n_replay=9)
    assert ra["replay"]["n_replay"] == 9 and ra["replay"]["n_memories"] == 6
    assert ra["replay"]["fraction_converged"] == 1.0  # random images are far apart: one memory each
    for k, v in a.get_state().items():
        np.testing.assert_array_equal(v, b.get_state()[k])
    untrained = mnist_vae(rng=0).get_state()["param/decoder.dense.kernel"]
    assert not np.array_equal(a.get_state()["param/decoder.dense.kernel"], untrained)  # it was trained


def test_bad_input():
    vae = mnist_vae(rng=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        consolidate_by_replay(vae, _digits() * 3, epochs=0)
    with pytest.raises(ValueError):
        consolidate_by_replay(vae, np.zeros((2, 8, 8, 1), np.float32), epochs=0)
    with pytest.raises(ValueError):
        consolidate_by_replay(vae, _digits(), n_replay=0, epochs=0)
