"""Benchmarks run by ``refmem bench NAME`` (speed targets are checked here, never by
timed unit tests). Each reports its figures next to the machine's float32 matrix-multiply
throughput measured in the same run, so results from loaded or different machines can
be compared as a fraction of what the BLAS achieves.
"""
