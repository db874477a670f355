"""Offline datasets with ground truth (no network at run time).

* :mod:`refmem.datasets.shapes3d`: a Shapes3D-like scene renderer (DeepMind 3dshapes
  factors), and a reader for the real ``3dshapes.h5`` when a user has it.
* :mod:`refmem.datasets.digits`: 5,000 real MNIST digits shipped in the package, and an
  IDX reader for the full MNIST / Fashion-MNIST files.
* :mod:`refmem.datasets.drm`: the paper's 20 DRM word lists, a synthetic story corpus
  and a bag-of-words vectoriser.
* :mod:`refmem.datasets.transforms`: the paper's stimulus manipulations (noise, zoom,
  white squares, Carmichael stimulus).

Submodules are imported on demand.
"""
