"""Analysis: decoding probes, statistics and error metrics.

========================  ==========================================================
``probes``                StandardScaler, RBF SVC (SMO, libsvm's rules), logistic regression
``decoding``              semantic decoding of a label from a representation
``stats``                 PCA, neighbour agreement, silhouette, Spearman, SEM, distances, ROC AUC
``metrics``               the paper's reconstruction error, per set and per image
``distortion``            per-class pixel variance, paired t-test and Cohen's d, class means
``segmentation``          colour k-means (OpenCV's rule) and the object-height measure
========================  ==========================================================
"""
from refmem.analysis.decoding import decoding_accuracy, fit_probe, probe_split
from refmem.analysis.metrics import per_image_error, recon_error
from refmem.analysis.probes import SVC, LogisticRegression, Probe, StandardScaler, make_probe
from refmem.analysis.stats import knn_agreement, nearest_distance, pca, roc_auc, sem, silhouette_score, spearman

__all__ = ["StandardScaler", "SVC", "LogisticRegression", "Probe", "make_probe", "probe_split", "fit_probe",
           "decoding_accuracy", "pca", "knn_agreement", "silhouette_score", "spearman", "sem",
           "nearest_distance", "roc_auc", "recon_error", "per_image_error"]
