"""The gradient checker itself: it must agree with known derivatives and catch wrong ones."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from refmem.nn.gradcheck import check_layer, numerical_vjp, random_direction_check, rel_error
from refmem.nn.layers import Dense


def test_rel_error():
    assert rel_error(1.0, 1.0) == 0
    assert rel_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2)
    assert rel_error(0.0, 1e-12) < 1e-3  # tiny absolute differences near 0 do not blow up
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.zeros(2), np.zeros(3))


@given(n=st.integers(1, 4), m=st.integers(1, 4), seed=st.integers(0, 1000))
def test_numerical_vjp_of_linear_and_smooth_maps(n, m, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    x = rng.standard_normal(n)
    dy = rng.standard_normal(m)
    x0 = x.copy()
    g = numerical_vjp(lambda z: A @ np.tanh(z), x, dy)
    np.testing.assert_array_equal(x, x0)  # restored
    exact = (A.T @ dy) * (1 - np.tanh(x) ** 2)
    assert rel_error(g, exact) < 1e-7


def test_numerical_vjp_rejects_non_float():
    with pytest.raises(TypeError, match="float ndarray"):
        numerical_vjp(lambda z: z, np.arange(3), np.ones(3))


class _WrongDense(Dense):
    def backward(self, dy, cache):
        dx = super().backward(dy, cache)
        self.grads["kernel"] *= 1.01  # a 1% bug
        return dx


def test_check_layer_passes_correct_and_catches_wrong_layer():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    good = Dense(4, 3, dtype=np.float64, rng=0)
    errs = check_layer(good, x, rng)
    assert set(errs) == {"x", "kernel", "bias"} and max(errs.values()) < 1e-7
    assert not any(g.any() for g in good.grads.values())  # grads left zeroed
    bad = _WrongDense(4, 3, dtype=np.float64, rng=0)
    errs = check_layer(bad, x, rng)
    assert errs["kernel"] > 1e-3 and errs["x"] < 1e-7


def test_random_direction_check_quadratic_and_restores():
    rng = np.random.default_rng(0)
    params = {"a": rng.standard_normal((3, 2)), "b": rng.standard_normal(4)}
    saved = {k: v.copy() for k, v in params.items()}

    def loss():
        return float(np.sum(params["a"] ** 3) + np.sum(np.sin(params["b"])))

    grads = {"a": 3 * params["a"] ** 2, "b": np.cos(params["b"])}
    res = random_direction_check(loss, params, grads, rng)
    assert res["rel_error"] < 1e-7
    for k in params:
        np.testing.assert_array_equal(params[k], saved[k])
    wrong = {"a": grads["a"], "b": grads["b"] * 1.1}
    assert random_direction_check(loss, params, wrong, rng)["rel_error"] > 1e-4


def test_random_direction_check_restores_on_error():
    params = {"w": np.ones(3)}

    def loss():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        random_direction_check(loss, params, {"w": np.zeros(3)}, 0)
    np.testing.assert_array_equal(params["w"], 1)


def test_random_direction_check_validates():
    with pytest.raises(ValueError, match="same keys"):
        random_direction_check(lambda: 0.0, {"a": np.ones(2)}, {"b": np.ones(2)}, 0)
    with pytest.raises(ValueError, match="shape"):
        random_direction_check(lambda: 0.0, {"a": np.ones(2)}, {"a": np.ones(3)}, 0)
    with pytest.raises(TypeError):
        random_direction_check(lambda: 0.0, {"a": np.ones(2, int)}, {"a": np.ones(2)}, 0)
