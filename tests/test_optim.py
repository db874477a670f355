"""Tests of refmem.nn.optim: the Keras Adam/AMSGrad variant, step counter, state round trip."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays

from refmem.nn.optim import Adam, adam_step


def _keras_reference(theta, grads, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False):
    """Straight transcription of Keras optimizer_v1.Adam.get_updates, float64."""
    m = v = vhat = np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        lr_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if amsgrad:
            vhat = np.maximum(vhat, v)
            theta = theta - lr_t * m / (np.sqrt(vhat) + eps)
        else:
            theta = theta - lr_t * m / (np.sqrt(v) + eps)
    return theta


@given(g=arrays(np.float64, (5,), elements=st.floats(0.01, 10) | st.floats(-10, -0.01)))
def test_first_step_moves_by_lr_sign(g):
    p, state = adam_step(np.zeros(5), g, None, lr=1e-3)
    # t=1: lr_t = lr sqrt(1-b2)/(1-b1), m = 0.1 g, v = 0.001 g^2 -> step = lr g/(|g| + eps/sqrt(.001))
    np.testing.assert_allclose(p, -1e-3 * np.sign(g), rtol=1e-3)  # |g| >= 0.01 >> 3e-6
    assert state["t"] == 1


def test_worked_example_two_steps():
    # step 1: g=2 -> m=0.2, v=0.004, lr_t=1e-3*sqrt(0.001)/0.1, theta = -lr_t*0.2/(sqrt(.004)+1e-7)
    g1, g2 = np.array([2.0]), np.array([-1.0])
    lr1 = 1e-3 * np.sqrt(1 - 0.999) / (1 - 0.9)
    th1 = 1.0 - lr1 * 0.2 / (np.sqrt(0.004) + 1e-7)
    p, s = adam_step(np.array([1.0]), g1, None)
    np.testing.assert_allclose(p, th1, rtol=1e-14)
    # step 2: m = 0.9*0.2 - 0.1 = 0.08, v = 0.999*0.004 + 0.001 = 0.004996
    lr2 = 1e-3 * np.sqrt(1 - 0.999 ** 2) / (1 - 0.9 ** 2)
    th2 = th1 - lr2 * 0.08 / (np.sqrt(0.004996) + 1e-7)
    p, s = adam_step(p, g2, s)
    np.testing.assert_allclose(p, th2, rtol=1e-14)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_matches_keras_transcription(amsgrad):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(6) * (1 + 5 * (i % 3 == 0)) for i in range(20)]
    theta = rng.standard_normal(6)
    p, s = theta, None
    for g in grads:
        p, s = adam_step(p, g, s, amsgrad=amsgrad)
    np.testing.assert_allclose(p, _keras_reference(theta, grads, amsgrad=amsgrad), rtol=1e-13)


def test_adam_step_is_pure():
    p0, g = np.ones(3), np.full(3, 0.5)
    _, s = adam_step(p0, g, None, amsgrad=True)
    s_copy = {k: np.copy(v) for k, v in s.items()}
    p1, s1 = adam_step(p0, g, s, amsgrad=True)
    np.testing.assert_array_equal(p0, np.ones(3))
    for k in s:
        np.testing.assert_array_equal(s[k], s_copy[k])
    assert s1["t"] == 2


def test_amsgrad_v_hat_never_decreases():
    rng = np.random.default_rng(3)
    params = {"w": rng.standard_normal((4, 3))}
    opt = Adam(params, amsgrad=True)
    prev = np.zeros((4, 3))
    for i in range(30):
        scale = 10.0 if i < 5 else 0.01  # large early gradients: v decays but v_hat must not
        opt.step({"w": rng.standard_normal((4, 3)) * scale})
        assert np.all(opt.v_hat["w"] >= prev)
        assert np.all(opt.v_hat["w"] >= opt.v["w"])
        prev = opt.v_hat["w"].copy()
    assert np.any(opt.v["w"] < opt.v_hat["w"])


def test_trajectory_independent_of_other_parameters():
    # the tinygrad bug: a step counter per parameter makes bias correction depend on #params
    rng = np.random.default_rng(4)
    gs = [rng.standard_normal(3) for _ in range(10)]
    a = {"x": np.zeros(3)}
    b = {"x": np.zeros(3), "y": np.zeros(2), "z": np.zeros((2, 2))}
    oa, ob = Adam(a, amsgrad=True), Adam(b, amsgrad=True)
    for g in gs:
        oa.step({"x": g})
        ob.step({"x": g, "y": rng.standard_normal(2), "z": rng.standard_normal((2, 2))})
    np.testing.assert_array_equal(a["x"], b["x"])
    assert oa.t == ob.t == 10


def test_class_matches_pure_step_and_updates_in_place():
    rng = np.random.default_rng(5)
    w = rng.standard_normal((2, 3)).astype(np.float32)
    params = {"w": w}
    opt = Adam(params, lr=0.01, amsgrad=True)
    p, s = w.copy(), None
    for _ in range(5):
        g = rng.standard_normal((2, 3)).astype(np.float32)
        opt.step({"w": g})
        p, s = adam_step(p, g, s, lr=0.01, amsgrad=True)
    assert params["w"] is w and w.dtype == np.float32
    np.testing.assert_array_equal(w, p)


def test_state_dict_round_trip_is_bit_identical(tmp_path):
    from refmem._utils import load_npz, save_npz

    rng = np.random.default_rng(6)
    init = {"a": rng.standard_normal(4).astype(np.float32), "b": rng.standard_normal((2, 2)).astype(np.float32)}
    gs = [{k: rng.standard_normal(v.shape).astype(np.float32) for k, v in init.items()} for _ in range(8)]
    p1 = {k: v.copy() for k, v in init.items()}
    o1 = Adam(p1, amsgrad=True)
    for g in gs:
        o1.step(g)
    p2 = {k: v.copy() for k, v in init.items()}
    o2 = Adam(p2, amsgrad=True)
    for g in gs[:4]:
        o2.step(g)
    save_npz(tmp_path / "opt.npz", o2.state_dict())
    snapshot = {k: v.copy() for k, v in p2.items()}
    p3 = snapshot
    o3 = Adam(p3, amsgrad=True)
    o3.load_state_dict(load_npz(tmp_path / "opt.npz"))
    for g in gs[4:]:
        o3.step(g)
    for k in init:
        np.testing.assert_array_equal(p1[k], p3[k])
    assert o3.t == 8


def test_bad_input():
    with pytest.raises(ValueError, match="shape"):
        adam_step(np.zeros(3), np.zeros(2), None)
    with pytest.raises(ValueError, match="NaN"):
        adam_step(np.zeros(3), np.array([0, np.nan, 0]), None)
    with pytest.raises(ValueError, match="lr"):
        adam_step(np.zeros(3), np.zeros(3), None, lr=-1)
    with pytest.raises(ValueError, match="beta1"):
        Adam({"w": np.zeros(2)}, beta1=1.0)
    opt = Adam({"w": np.zeros(2)})
    with pytest.raises(ValueError, match="missing"):
        opt.step({})
    with pytest.raises(ValueError, match="amsgrad"):
        opt.load_state_dict(Adam({"w": np.zeros(2)}, amsgrad=True).state_dict())
    with pytest.raises(TypeError):
        Adam({"w": np.zeros(2, int)})


def test_keras_variant_equals_algorithm1_with_rescaled_eps():
    # documented relation: Keras Adam == Algorithm 1 with eps_t = eps / sqrt(1 - beta2^t)
    rng = np.random.default_rng(8)
    theta, state = rng.standard_normal(4), None
    m = v = np.zeros(4)
    ref = theta.copy()
    for t in range(1, 6):
        g = rng.standard_normal(4) * 1e-5  # tiny gradients: eps matters
        theta, state = adam_step(theta, g, state, eps=1e-7)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        m_hat, v_hat = m / (1 - 0.9 ** t), v / (1 - 0.999 ** t)
        ref = ref - 1e-3 * m_hat / (np.sqrt(v_hat) + 1e-7 / np.sqrt(1 - 0.999 ** t))
    np.testing.assert_allclose(theta, ref, rtol=1e-12)
