"""Process memory helpers: glibc's freed-memory thresholds and the peak resident set size."""
import sys

import numpy as np
import pytest

from refmem import _memory


def test_retain_freed_memory_is_idempotent_and_reports():
    first = _memory.retain_freed_memory()
    assert isinstance(first, bool) and _memory.retain_freed_memory() is first
    if sys.platform.startswith("linux") and first:
        import resource
        a = np.ones((2 << 20,))  # 16 MB, below the 64 MB mapping threshold: from the heap
        del a
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        b = np.ones((2 << 20,))  # reuses the freed heap: (almost) no new page faults
        assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before < 100
        del b


def test_opt_out(monkeypatch):
    monkeypatch.setattr(_memory, "_applied", None)
    monkeypatch.setenv("REFMEM_KEEP_FREED_MEMORY", "0")
    assert _memory.retain_freed_memory() is False


@pytest.mark.skipif(sys.platform.startswith("win"), reason="no resource module")
def test_peak_rss_grows_with_a_large_array():
    before = _memory.peak_rss_bytes()
    a = np.ones(100 << 20, dtype=np.uint8)  # 100 MB touched
    assert _memory.peak_rss_bytes() >= max(before, a.nbytes)
