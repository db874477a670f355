"""Cross-checking other implementations of the model against refmem.

* :mod:`refmem.interop.keras` - the paper's Keras weight files (``.h5``, Keras 2 and 3)
  -> refmem VAEs, and back (needs ``h5py``).
* :mod:`refmem.interop.torch` - PyTorch ``state_dict`` <-> refmem parameters for the
  three architectures (plain arrays; torch itself is not needed).
* :mod:`refmem.interop.fixtures` - float64 conformance fixtures with a JSON manifest.
* :mod:`refmem.interop.crosscheck` - compare another implementation's outputs with them.

The walk-through for a PyTorch port is ``docs/crosscheck.md``. Nothing here is imported
by the rest of refmem; h5py is imported only when a Keras file is read or written.
"""
