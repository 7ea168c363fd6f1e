"""Multinomial logistic regression over a dense block of features (the sentence embedding) beside a
sparse one (TF-IDF), fitted with scipy's L-BFGS.

It is scikit-learn's LogisticRegression(solver="lbfgs") for several classes: the same objective (the
summed negative log-likelihood plus an L2 penalty of 1/(2C) on the weights, none on the intercepts),
the same optimiser and stopping rules, so the same model. What differs is the arithmetic: scikit-learn
takes one matrix, and with the 384 dense columns inside a sparse matrix every iteration multiplied them
as sparse entries (about 0.5 s an iteration, 187 s a fit for 7,300 lines and 70 labels on this
machine). Here the dense block is multiplied as a dense matrix. No Rasa imports: numpy and scipy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import logsumexp, softmax


@dataclass
class SoftmaxRegression:
    """A fitted model: one row of weights per class in each block, and the intercepts."""

    classes_: np.ndarray
    dense_coef: np.ndarray
    sparse_coef: np.ndarray
    intercept: np.ndarray
    n_iter_: int

    def decision_function(self, dense: np.ndarray, sparse: sp.spmatrix) -> np.ndarray:
        scores = np.asarray(sparse @ self.sparse_coef.T) + self.intercept
        if self.dense_coef.shape[1]:
            scores += np.asarray(dense, dtype=np.float64) @ self.dense_coef.T
        return scores

    def predict_proba(self, dense: np.ndarray, sparse: sp.spmatrix) -> np.ndarray:
        return softmax(self.decision_function(dense, sparse), axis=1)


def fit(dense: np.ndarray, sparse: sp.spmatrix, labels: list[str], C: float, max_iter: int = 3000,
        tol: float = 1e-4) -> SoftmaxRegression:
    """Fit on `dense` (n × d, may have no columns) and `sparse` (n × e) for `labels` (n class names)."""
    classes, y = np.unique(np.asarray(labels), return_inverse=True)
    if len(classes) < 2:
        raise ValueError("the classifier needs examples of at least two labels")
    dense = np.ascontiguousarray(dense, dtype=np.float64)
    sparse = sp.csr_matrix(sparse, dtype=np.float64)
    sparse_t = sparse.T.tocsr()
    n, k = len(y), len(classes)
    d, e = dense.shape[1], sparse.shape[1]
    rows = np.arange(n)
    alpha = 1.0 / C

    def unpack(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return w[:k * d].reshape(k, d), w[k * d:k * (d + e)].reshape(k, e), w[k * (d + e):]

    def loss_and_gradient(w: np.ndarray) -> tuple[float, np.ndarray]:
        dense_w, sparse_w, intercept = unpack(w)
        scores = np.asarray(sparse @ sparse_w.T) + intercept
        if d:
            scores += dense @ dense_w.T
        norms = logsumexp(scores, axis=1)
        loss = float(norms.sum() - scores[rows, y].sum())
        loss += 0.5 * alpha * float((dense_w ** 2).sum() + (sparse_w ** 2).sum())
        residual = np.exp(scores - norms[:, None])
        residual[rows, y] -= 1.0
        gradient = np.concatenate([
            (residual.T @ dense + alpha * dense_w).ravel(),
            (np.asarray(sparse_t @ residual).T + alpha * sparse_w).ravel(),
            residual.sum(axis=0),
        ])
        return loss, gradient

    result = minimize(
        loss_and_gradient, np.zeros(k * (d + e + 1)), jac=True, method="L-BFGS-B",
        options={"maxiter": max_iter, "maxls": 50, "gtol": tol, "ftol": 64 * np.finfo(float).eps},
    )
    dense_w, sparse_w, intercept = unpack(result.x)
    return SoftmaxRegression(classes_=classes, dense_coef=dense_w.copy(), sparse_coef=sparse_w.copy(),
                             intercept=intercept.copy(), n_iter_=int(result.nit))
