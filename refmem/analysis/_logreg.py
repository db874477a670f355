"""Multinomial logistic regression (the alternative decoding probe) and the input
checks shared by the probes. Public names are re-exported by :mod:`refmem.analysis.probes`.

The model is ``p(c | x) = softmax(W x + b)_c`` with the L2-penalised mean negative
log-likelihood (scikit-learn's ``LogisticRegression(penalty="l2")`` objective divided
by C n, which has the same minimiser)::

    L(W, b) = 1/n sum_i [logsumexp_c(z_ic) - z_{i y_i}] + ||W||_F^2 / (2 C n),
    z_i = W x_i + b,
    dL/dW = (P - Y)^T X / n + W / (C n),   dL/db = mean_i (P_i - Y_i),

minimised by ``scipy.optimize.minimize(method="L-BFGS-B")`` on the exact loss and
gradient. The intercept is not penalised.
"""
from __future__ import annotations

import warnings
from typing import Any, Optional, Tuple

import numpy as np
from scipy.optimize import minimize

from refmem._utils import MAX_MAGNITUDE, check_array, check_float_array, check_magnitude, check_positive

__all__ = ["LogisticRegression", "multinomial_loss_grad", "check_features", "check_labels",
           "accuracy"]


#: largest feature magnitude the classifiers accept: squared distances, variances and
#: kernel arguments of larger values overflow float64
MAX_FEATURE = MAX_MAGNITUDE


def check_features(X: Any, name: str = "X", n_features: Optional[int] = None) -> np.ndarray:
    """Validate a ``(n, d)`` finite float feature matrix (ints become float64).

    Values must lie within ``±MAX_FEATURE`` (1e150; for a narrower float dtype
    ``sqrt(max) / 16``, 1.2e18 for float32): the squares that variances, distances and
    kernels take of larger values overflow.
    """
    X = check_float_array(X, name, ndim=2, min_size=1)
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name} must have {n_features} features (columns), got shape {X.shape}")
    return check_magnitude(X, name, MAX_FEATURE)


def check_labels(y: Any, n: int, min_classes: int = 2) -> Tuple[np.ndarray, np.ndarray]:
    """Validate ``(n,)`` labels; return ``(classes (K,), indices (n,) int)``.

    Raises
    ------
    ValueError
        Wrong length, or fewer than ``min_classes`` distinct labels (a classifier
        cannot be fitted; callers such as the few-shot analysis catch this).
    """
    y = check_array(y, "y", ndim=1)
    if y.dtype.kind not in "biufU":
        raise TypeError(f"y must hold int, bool, float or str labels, got dtype {y.dtype}")
    if y.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) to match X, got {y.shape}")
    classes, yi = np.unique(y, return_inverse=True)
    if len(classes) < min_classes:
        raise ValueError(f"y must contain at least {min_classes} classes to fit a classifier, "
                         f"got {len(classes)} ({classes.tolist()})")
    return classes, yi.reshape(-1)


def accuracy(pred: np.ndarray, y: Any) -> float:
    """Fraction of ``pred == y`` (both ``(n,)``)."""
    y = np.asarray(y)
    if y.shape != pred.shape:
        raise ValueError(f"y must have shape {pred.shape}, got {y.shape}")
    return float(np.mean(pred == y))


def _log_softmax(Z: np.ndarray) -> np.ndarray:
    Z = Z - Z.max(axis=1, keepdims=True)
    return Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))  # z - logsumexp(z)


def multinomial_loss_grad(W: np.ndarray, b: np.ndarray, X: np.ndarray, yi: np.ndarray,
                          C: float) -> Tuple[float, np.ndarray, np.ndarray]:
    """Penalised multinomial loss and its exact gradient.

    Parameters
    ----------
    W : (K, d) ndarray of float64
    b : (K,) ndarray of float64
    X : (n, d) ndarray
        The matrix products run in X's dtype; the loss is accumulated in float64.
    yi : (n,) ndarray of int
        Class indices in [0, K).
    C : float
        Inverse regularisation strength.

    Returns
    -------
    loss : float
        ``1/n sum_i [logsumexp(z_i) - z_{i, y_i}] + ||W||^2 / (2 C n)``.
    dW : (K, d) ndarray of float64
    db : (K,) ndarray of float64
    """
    n = X.shape[0]
    Z = (X @ W.T.astype(X.dtype, copy=False)).astype(np.float64) + b  # z_i = W x_i + b
    logp = _log_softmax(Z)
    loss = -logp[np.arange(n), yi].mean() + np.sum(W * W) / (2.0 * C * n)  # (S12)
    R = np.exp(logp)
    R[np.arange(n), yi] -= 1.0  # P - Y
    R /= n
    dW = (R.T.astype(X.dtype) @ X).astype(np.float64) + W / (C * n)  # (S13) (P - Y)^T X / n + W / (C n)
    db = R.sum(axis=0)
    return float(loss), dW, db


class LogisticRegression:
    """L2-penalised multinomial logistic regression fitted with L-BFGS-B.

    Parameters
    ----------
    C : float
        Inverse regularisation strength (sklearn default 1).
    tol : float
        L-BFGS-B ``gtol`` on the projected gradient of the mean loss (sklearn: 1e-4).
    max_iter : int
        L-BFGS-B iterations (sklearn's default is 100; 1000 here so that
        high-dimensional few-shot problems converge). Not converging emits a
        ``RuntimeWarning``.

    Attributes
    ----------
    classes_ : (K,) ndarray
    coef_ : (K, d) ndarray of float64
    intercept_ : (K,) ndarray of float64
    n_iter_ : int
    """

    def __init__(self, C: float = 1.0, tol: float = 1e-4, max_iter: int = 1000):
        self.C = check_positive(C, "C")
        self.tol = check_positive(tol, "tol")
        if not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
            raise ValueError(f"max_iter must be a positive int, got {max_iter!r}")
        self.max_iter = int(max_iter)

    def fit(self, X: Any, y: Any) -> "LogisticRegression":
        """Minimise the penalised loss over ``(W, b)`` starting from zero.

        Parameters
        ----------
        X : (n, d) array_like of float
        y : (n,) array_like of labels

        Raises
        ------
        ValueError
            Fewer than two classes or bad shapes.
        """
        X = check_features(X, "X")
        classes, yi = check_labels(y, X.shape[0])
        return self._fit_checked(X, classes, yi)

    def _fit_checked(self, X: np.ndarray, classes: np.ndarray, yi: np.ndarray) -> "LogisticRegression":
        """:meth:`fit` on validated ``X`` and label indices ``yi`` (no checks)."""
        K, d = len(classes), X.shape[1]

        def fun(theta: np.ndarray) -> Tuple[float, np.ndarray]:
            W, b = theta[:K * d].reshape(K, d), theta[K * d:]
            loss, dW, db = multinomial_loss_grad(W, b, X, yi, self.C)
            return loss, np.concatenate([dW.ravel(), db])

        res = minimize(fun, np.zeros(K * d + K), jac=True, method="L-BFGS-B",
                       options={"maxiter": self.max_iter, "gtol": self.tol,
                                "ftol": 64 * np.finfo(float).eps, "maxls": 50})
        if not np.all(np.isfinite(res.x)):
            raise FloatingPointError("L-BFGS-B returned non-finite parameters")
        if not res.success:
            warnings.warn(f"LogisticRegression: L-BFGS-B did not converge ({res.message})",
                          RuntimeWarning, stacklevel=2)
        self.classes_ = classes
        self.coef_ = res.x[:K * d].reshape(K, d)
        self.intercept_ = res.x[K * d:]
        self.n_iter_ = int(res.nit)
        self.n_features_in_ = d
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Logits ``z = W x + b`` as ``(n, K)`` float64 (also for K = 2)."""
        if not hasattr(self, "coef_"):
            raise ValueError("LogisticRegression is not fitted; call fit(X, y) first")
        X = check_features(X, "X", n_features=self.n_features_in_)
        return self._decision_checked(X)

    # validated input only (a Probe checks its features once)
    def _decision_checked(self, X: np.ndarray) -> np.ndarray:
        return (X @ self.coef_.T.astype(X.dtype)).astype(np.float64) + self.intercept_

    def _class_scores_checked(self, X: np.ndarray) -> np.ndarray:
        return _log_softmax(self._decision_checked(X))

    def _predict_checked(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(self._decision_checked(X), axis=1)]

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """``log softmax(z)`` as ``(n, K)`` float64."""
        return _log_softmax(self.decision_function(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """``softmax(z)`` as ``(n, K)`` float64; rows sum to 1."""
        return np.exp(self.predict_log_proba(X))

    def class_scores(self, X: Any) -> np.ndarray:
        """Per-class ranking scores ``(n, K)``: the log-probabilities."""
        return self.predict_log_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class (first on ties)."""
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy on ``(X, y)``."""
        return accuracy(self.predict(X), y)
