"""Semantic decoding probes: StandardScaler + RBF SVC (as scikit-learn's ``SVC()``) or
multinomial logistic regression.

The paper decodes the object shape from latent means with scikit-learn's
``StandardScaler`` followed by ``SVC()`` with its defaults (RBF kernel, C = 1,
gamma = 'scale', one-vs-one), fitted on 200 held-out examples and scored on 750
(docs/paper-experiments.md, 1.9). This module re-implements that pipeline in NumPy:

* :class:`StandardScaler`: per-feature standardisation, constant features scaled by 1.
* :class:`SVC`: one-vs-one C-SVC, each binary dual solved by libsvm's SMO
  (:func:`refmem.analysis._smo.smo_solve`), predictions by libsvm's voting rule;
  class probabilities (``probability=True``) by Platt sigmoids on cross-validated
  decision values and pairwise coupling, as libsvm (:mod:`refmem.analysis._platt`).
* :class:`LogisticRegression` (in :mod:`refmem.analysis._logreg`): L2-penalised multinomial
  logistic regression fitted by L-BFGS-B.
* :func:`make_probe` / :class:`Probe`: scaler + classifier pipeline.

Equations and the correspondence with libsvm are in ``docs/analysis.md``.

References
----------
.. [1] R.-E. Fan, P.-H. Chen and C.-J. Lin, "Working set selection using second order
   information for training support vector machines", JMLR 6:1889-1918, 2005
   (libsvm's solver; further references in :mod:`refmem.analysis._smo`).
"""
from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np

from refmem.analysis._logreg import LogisticRegression, accuracy, check_features, check_labels
from refmem.analysis._platt import cv_decision_values, ovo_probabilities, sigmoid_train
from refmem.analysis._smo import (gram64, ovo_vote, ovr_decision_function, permute_rows, rbf_kernel, row_sq_norms,
                                  smo_solve)
from refmem._utils import as_rng, check_positive

__all__ = ["StandardScaler", "SVC", "LogisticRegression", "Probe", "make_probe",
           "ovo_vote", "ovr_decision_function"]

_FULL_KERNEL_MAX = 6000  # precompute the whole (n, n) kernel up to this many points
_PREDICT_CHUNK = 2048    # test rows per kernel block in decision_function


class StandardScaler:
    """Per-feature standardisation ``z = (x - mean) / scale`` (scikit-learn's).

    ``scale_`` is the population standard deviation (ddof = 0); features that are
    constant (variance within rounding of 0, sklearn's ``_is_constant_feature`` bound
    ``var <= n eps var + (n mean eps)^2``) get scale 1, so they map to 0.

    Parameters
    ----------
    with_mean, with_std : bool
        Centre / scale (both True as sklearn's defaults).

    Attributes
    ----------
    mean_ : (d,) ndarray of float64
    var_ : (d,) ndarray of float64
    scale_ : (d,) ndarray of float64
    n_features_in_ : int
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True):
        self.with_mean = bool(with_mean)
        self.with_std = bool(with_std)

    def fit(self, X: Any, y: Any = None) -> "StandardScaler":
        """Compute the per-feature mean and standard deviation of ``X : (n, d)``."""
        return self._fit_checked(check_features(X, "X"))

    def _fit_checked(self, X: np.ndarray) -> "StandardScaler":
        n, d = X.shape
        mean = np.zeros(d)
        var = np.zeros(d)
        step = max(1, (1 << 22) // n)  # float64 statistics in column blocks
        for c in range(0, d, step):
            block = X[:, c:c + step].astype(np.float64)
            mean[c:c + step] = block.mean(axis=0)
            var[c:c + step] = block.var(axis=0)
        eps = np.finfo(np.float64).eps
        constant = var <= n * eps * var + (n * mean * eps) ** 2
        scale = np.sqrt(var)
        scale[constant] = 1.0
        self.mean_, self.var_, self.scale_ = mean, var, scale
        self.n_features_in_ = d
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Standardise ``X : (n, d)``; returns an array of X's float dtype."""
        self._check_fitted()
        return self._transform_checked(check_features(X, "X", n_features=self.n_features_in_))

    def _transform_checked(self, X: np.ndarray, dtype=None) -> np.ndarray:
        """Standardised copy of validated ``X`` in ``dtype`` (default: X's): one new array."""
        out = X.astype(X.dtype if dtype is None else dtype)  # a copy, then in place
        if self.with_mean:
            out -= self.mean_.astype(out.dtype)
        if self.with_std:
            with np.errstate(over="ignore"):
                out /= self.scale_.astype(out.dtype)  # (S1) z = (x - mean) / scale
        if not np.all(np.isfinite(out)):
            raise ValueError(f"standardised values overflow {out.dtype}: X lies far outside the range of "
                             f"the data the scaler was fitted on")
        return out

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """``fit(X).transform(X)``."""
        return self.fit(X).transform(X)

    def _check_fitted(self) -> None:
        if not hasattr(self, "scale_"):
            raise ValueError("StandardScaler is not fitted; call fit(X) first")


class SVC:
    """C-support vector classifier with an RBF kernel, one-vs-one (libsvm / sklearn).

    Each pair of classes (i < j) gets a binary C-SVC whose dual (Eq. (1) of [1]_)::

        min_a 1/2 a^T Q a - e^T a,  Q_st = y_s y_t K(x_s, x_t),  y^T a = 0,  0 <= a <= C

    is solved by SMO with second-order working-set selection (:func:`refmem.analysis._smo.smo_solve`);
    the pair's decision value is ``f_ij(x) = sum_s a_s y_s K(x_s, x) - rho_ij``
    (y = +1 for class i). A test point gets a vote for i if ``f_ij(x) > 0``, else for j,
    and is assigned the class with most votes, ties to the lowest class index
    (libsvm's ``svm_predict_values``).

    Parameters
    ----------
    C : float
        Box constraint (sklearn default 1).
    gamma : {"scale", "auto"} or float
        RBF width: ``"scale"`` = 1 / (n_features * X.var()) with the variance over all
        elements of the training matrix (1 if that variance is 0); ``"auto"`` =
        1 / n_features.
    kernel : {"rbf", "linear"}
        ``exp(-gamma ||x - x'||^2)`` or ``x . x'``.
    tol : float
        SMO stopping tolerance on the maximal KKT violation (sklearn default 1e-3).
    max_iter : int, optional
        SMO iteration cap per pair (default ``max(100_000, 100 n)``).
    decision_function_shape : {"ovo", "ovr"}
        Shape of :meth:`decision_function` for more than two classes.
    probability : bool
        Also fit Platt sigmoids for :meth:`predict_proba` (sklearn's
        ``SVC(probability=True)``; 5 extra binary fits per pair).
    rng : None, int or numpy.random.Generator
        Draws the cross-validation folds of the probability fit.

    Attributes
    ----------
    classes_ : (K,) ndarray
    support_ : (n_SV,) ndarray of int
        Indices of the support vectors in the training data, grouped by class.
    support_vectors_ : (n_SV, d) ndarray
    n_support_ : (K,) ndarray of int
    dual_coef_ : (K - 1, n_SV) ndarray
        ``y_s a_s`` in libsvm's layout; for two classes the sign is flipped as in
        sklearn (positive decision = ``classes_[1]``).
    intercept_ : (K (K - 1) / 2,) ndarray
        ``-rho`` per pair (sign flipped for two classes, as sklearn).
    gamma_ : float
    n_iter_ : (K (K - 1) / 2,) ndarray of int
    probA_, probB_ : (K (K - 1) / 2,) ndarray
        Platt sigmoid of each pair (only with ``probability=True``), libsvm's sign
        convention: ``P(first class of the pair | f) = 1 / (1 + exp(A f + B))``.
    """

    def __init__(self, C: float = 1.0, gamma: Union[str, float] = "scale", kernel: str = "rbf",
                 tol: float = 1e-3, max_iter: Optional[int] = None,
                 decision_function_shape: str = "ovo", probability: bool = False, rng=None):
        self.probability = bool(probability)
        self.rng = rng
        self.C = check_positive(C, "C")
        if isinstance(gamma, str):
            if gamma not in ("scale", "auto"):
                raise ValueError(f"gamma must be 'scale', 'auto' or a positive float, got {gamma!r}")
        else:
            gamma = check_positive(gamma, "gamma")
        self.gamma = gamma
        if kernel not in ("rbf", "linear"):
            raise ValueError(f"kernel must be 'rbf' or 'linear', got {kernel!r}")
        self.kernel = kernel
        self.tol = check_positive(tol, "tol")
        if max_iter is not None and (not isinstance(max_iter, (int, np.integer)) or max_iter < 1):
            raise ValueError(f"max_iter must be None or a positive int, got {max_iter!r}")
        self.max_iter = max_iter
        if decision_function_shape not in ("ovo", "ovr"):
            raise ValueError(f"decision_function_shape must be 'ovo' or 'ovr', got {decision_function_shape!r}")
        self.decision_function_shape = decision_function_shape

    # ------------------------------------------------------------------ kernel
    def _kernel(self, A: np.ndarray, B: np.ndarray, a_sq=None, b_sq=None, same=False) -> np.ndarray:
        if self.kernel == "linear":
            return gram64(A, B)  # K = x . x'
        return rbf_kernel(A, B, self.gamma_, a_sq, b_sq, same=same)

    def _resolve_gamma(self, X: np.ndarray) -> float:
        if self.gamma == "auto":
            return 1.0 / X.shape[1]
        if self.gamma == "scale":
            var = float(np.var(X, dtype=np.float64))
            return 1.0 / (X.shape[1] * var) if var != 0 else 1.0  # (S3) 1 / (d Var[X])
        return float(self.gamma)

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any) -> "SVC":
        """Fit the K (K - 1) / 2 binary SVMs.

        Parameters
        ----------
        X : (n, d) array_like of float
        y : (n,) array_like of labels (int, bool, str or float)

        Raises
        ------
        ValueError
            Fewer than two classes in ``y`` or bad shapes.
        """
        X = check_features(X, "X")
        classes, yi = check_labels(y, X.shape[0])
        return self._fit_checked(X, classes, yi)

    def _fit_checked(self, X: np.ndarray, classes: np.ndarray, yi: np.ndarray, owned: bool = False) -> "SVC":
        """:meth:`fit` on validated ``X`` and label indices ``yi`` (no checks).

        ``owned=True``: the caller hands ``X`` over (a temporary, as :class:`Probe`'s
        standardised features): its rows are regrouped by class and compacted to the
        support vectors in place instead of in two copies (same model).
        """
        K = len(classes)
        self.gamma_ = self._resolve_gamma(X)
        perm = np.argsort(yi, kind="stable")  # (S8) group by class, keep order (libsvm)
        Xs = permute_rows(X, perm) if owned else X[perm]
        counts = np.bincount(yi, minlength=K)
        start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        sq = row_sq_norms(Xs) if self.kernel == "rbf" else None
        full = self._kernel(Xs, Xs, sq, sq, same=True) if Xs.shape[0] <= _FULL_KERNEL_MAX else None
        nonzero = np.zeros(Xs.shape[0], dtype=bool)
        pairs, platt = [], []
        rng = as_rng(self.rng) if self.probability else None
        for i in range(K):
            for j in range(i + 1, K):
                idx = np.r_[start[i]:start[i] + counts[i], start[j]:start[j] + counts[j]]
                if full is not None:
                    Kp = full[np.ix_(idx, idx)]
                else:
                    s = None if sq is None else sq[idx]
                    Kp = self._kernel(Xs[idx], Xs[idx], s, s, same=True)
                yp = np.where(np.arange(idx.size) < counts[i], 1.0, -1.0)
                if self.probability:  # libsvm: sigmoid fitted on 5-fold CV decision values
                    dec = cv_decision_values(Kp, yp, lambda k, y: smo_solve(k, y, self.C, self.tol, self.max_iter),
                                             rng)
                    platt.append(sigmoid_train(dec, yp))
                res = smo_solve(Kp, yp, self.C, self.tol, self.max_iter)
                nonzero[idx[res.alpha > 0]] = True
                pairs.append((i, j, idx, yp * res.alpha, res))
        sv = np.flatnonzero(nonzero)  # grouped order, as libsvm's model->SV
        col = np.full(Xs.shape[0], -1)
        col[sv] = np.arange(sv.size)
        coef = np.zeros((K - 1, sv.size))
        for i, j, idx, a_signed, _ in pairs:
            ci = counts[i]
            # libsvm layout: pair (i, j) stores class-i coefficients in row j-1 and
            # class-j coefficients in row i.
            sel = nonzero[idx[:ci]]
            coef[j - 1, col[idx[:ci][sel]]] = a_signed[:ci][sel]
            sel = nonzero[idx[ci:]]
            coef[i, col[idx[ci:][sel]]] = a_signed[ci:][sel]
        self.classes_ = classes
        self.support_ = perm[sv]
        if owned:  # Xs[sv] into the first rows of Xs (sv ascending: a row never overwrites one still needed)
            for k, i in enumerate(sv):
                if k != i:
                    Xs[k] = Xs[i]
            self.support_vectors_ = Xs[:sv.size]
        else:
            self.support_vectors_ = X[self.support_]
        self._sv_sq = sq[sv] if sq is not None else None
        self.n_support_ = np.bincount(yi[self.support_], minlength=K)
        self._sv_start = np.concatenate([[0], np.cumsum(self.n_support_)])
        self._sv_coef = coef
        self._rho = np.array([res.rho for *_, res in pairs])
        self.n_iter_ = np.array([res.n_iter for *_, res in pairs])
        self.converged_ = bool(all(res.converged for *_, res in pairs))
        if self.probability:
            self.probA_, self.probB_ = (np.array(v) for v in zip(*platt))
        sign = -1.0 if K == 2 else 1.0
        self.dual_coef_ = sign * coef
        self.intercept_ = -sign * self._rho
        self.n_features_in_ = X.shape[1]
        return self

    # ------------------------------------------------------------------ predict
    def _raw_decision(self, X: Any) -> np.ndarray:
        """libsvm-signed ovo values ``(n, P)``: positive favours the lower class."""
        if not hasattr(self, "classes_"):
            raise ValueError("SVC is not fitted; call fit(X, y) first")
        return self._raw_checked(check_features(X, "X", n_features=self.n_features_in_))

    def _raw_checked(self, X: np.ndarray) -> np.ndarray:
        K = len(self.classes_)
        st = self._sv_start
        out = np.empty((X.shape[0], len(self._rho)))
        for a in range(0, X.shape[0], _PREDICT_CHUNK):
            Kt = self._kernel(X[a:a + _PREDICT_CHUNK], self.support_vectors_, None, self._sv_sq)
            p = 0
            for i in range(K):
                for j in range(i + 1, K):
                    si, sj = slice(st[i], st[i + 1]), slice(st[j], st[j + 1])
                    # (S9) f_ij(x) = sum_s y_s a_s K(x_s, x) - rho_ij
                    out[a:a + _PREDICT_CHUNK, p] = (Kt[:, si] @ self._sv_coef[j - 1, si]
                                                    + Kt[:, sj] @ self._sv_coef[i, sj] - self._rho[p])
                    p += 1
        return out

    def decision_function(self, X: Any) -> np.ndarray:
        """Decision values, float64 (as sklearn, whatever X's dtype).

        Returns
        -------
        (n,) ndarray for two classes (positive favours ``classes_[1]``, as sklearn);
        otherwise (n, K (K - 1) / 2) one-vs-one values with pairs (0,1), (0,2), ...,
        positive favouring the first class of the pair (sklearn's
        ``decision_function_shape="ovo"``), or (n, K) :meth:`class_scores` if
        ``decision_function_shape="ovr"``.
        """
        raw = self._raw_decision(X)
        if len(self.classes_) == 2:
            return -raw[:, 0]
        if self.decision_function_shape == "ovr":
            return ovr_decision_function(raw, len(self.classes_))
        return raw

    def class_scores(self, X: Any) -> np.ndarray:
        """Per-class ranking scores ``(n, K)``: sklearn's ovr transform of the ovo
        values (:func:`ovr_decision_function`: votes + normalised confidences)."""
        raw = self._raw_decision(X)
        return ovr_decision_function(raw, len(self.classes_))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels ``(n,)`` by libsvm's one-vs-one vote (:func:`ovo_vote`)."""
        raw = self._raw_decision(X)
        return self.classes_[ovo_vote(raw, len(self.classes_))]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, K)`` as libsvm's ``svm_predict_probability``.

        Each pair's decision value goes through its Platt sigmoid and the pairwise
        probabilities are coupled into K class probabilities
        (:func:`refmem.analysis._platt.ovo_probabilities`). As in libsvm, the argmax may
        differ from :meth:`predict` for points near a boundary.
        """
        if not hasattr(self, "probA_"):
            raise ValueError("predict_proba needs an SVC fitted with probability=True")
        return ovo_probabilities(self._raw_decision(X), self.probA_, self.probB_, len(self.classes_))

    def score(self, X: Any, y: Any) -> float:
        """Accuracy of :meth:`predict` on ``(X, y)``."""
        return accuracy(self.predict(X), y)

    # validated input only (a Probe checks its features once)
    def _predict_checked(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[ovo_vote(self._raw_checked(X), len(self.classes_))]

    def _class_scores_checked(self, X: np.ndarray) -> np.ndarray:
        return ovr_decision_function(self._raw_checked(X), len(self.classes_))


class Probe:
    """A scaler + classifier pipeline (scikit-learn's ``make_pipeline(StandardScaler(), clf)``).

    Parameters
    ----------
    classifier : SVC or LogisticRegression
    scaler : StandardScaler, optional
    dtype : float dtype, optional
        The dtype of the standardised features the classifier sees; None keeps the
        input's. ``float64`` standardises float32 features in float64 without a float64
        copy of the input (what :func:`refmem.analysis.decoding.fit_probe` uses).
    """

    def __init__(self, classifier: Any, scaler: Optional[StandardScaler] = None, dtype=None):
        self.classifier = classifier
        self.scaler = StandardScaler() if scaler is None else scaler
        self.dtype = None if dtype is None else np.dtype(dtype)
        if self.dtype is not None and self.dtype.kind != "f":
            raise TypeError(f"dtype must be a float dtype, got {self.dtype}")

    @property
    def classes_(self) -> np.ndarray:
        return self.classifier.classes_

    def fit(self, X: Any, y: Any) -> "Probe":
        """Fit the scaler on ``X : (n, d)`` and the classifier on the scaled data.

        Raises
        ------
        ValueError
            If ``y`` holds fewer than two classes. The few-shot analysis (paper E8)
            catches this and records NaN, as the paper's code does.
        """
        X = check_features(X, "X")
        classes, yi = check_labels(y, X.shape[0])  # raises before any work if < 2 classes
        self.scaler._fit_checked(X)  # validated once here; the stages trust it
        z = self.scaler._transform_checked(X, self.dtype)  # a new array: the classifier may reuse it
        self.classifier._fit_checked(z, classes, yi, **({"owned": True} if isinstance(self.classifier, SVC) else {}))
        return self

    def _t(self, X: Any) -> np.ndarray:
        """Validate ``X`` once against the fitted scaler and standardise it."""
        self.scaler._check_fitted()
        return self.scaler._transform_checked(
            check_features(X, "X", n_features=self.scaler.n_features_in_), self.dtype)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels ``(n,)``."""
        return self.classifier._predict_checked(self._t(X))

    def decision_function(self, X: Any) -> np.ndarray:
        """The classifier's decision function on the scaled data."""
        return self.classifier.decision_function(self._t(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, K)`` of the classifier on the scaled data."""
        return self.classifier.predict_proba(self._t(X))

    def class_scores(self, X: Any) -> np.ndarray:
        """Per-class scores ``(n, K)`` for ranking samples by class.

        SVC: :func:`ovr_decision_function` of the ovo values. LogisticRegression:
        log-probabilities (same order as ``predict_proba``, without underflow).
        """
        return self.classifier._class_scores_checked(self._t(X))

    def score(self, X: Any, y: Any) -> float:
        """Accuracy on ``(X, y)``."""
        return accuracy(self.predict(X), y)


def make_probe(kind: str = "svc", dtype=None, **kwargs: Any) -> Probe:
    """The paper's decoding probe: StandardScaler followed by a classifier.

    Parameters
    ----------
    kind : {"svc", "logreg"}
        ``"svc"``: :class:`SVC` (defaults = sklearn's ``SVC()``, the paper's probe);
        ``"logreg"``: :class:`LogisticRegression`.
    dtype : float dtype, optional
        :class:`Probe`'s ``dtype`` (the standardised features' dtype; None keeps the input's).
    **kwargs
        Passed to the classifier's constructor.

    Returns
    -------
    Probe
    """
    if kind == "svc":
        return Probe(SVC(**kwargs), dtype=dtype)
    if kind == "logreg":
        return Probe(LogisticRegression(**kwargs), dtype=dtype)
    raise ValueError(f"kind must be 'svc' or 'logreg', got {kind!r}")
