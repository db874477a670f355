"""Compare two results.json files of the same run made under different Python/NumPy/SciPy.

Usage: python compare_results.py A/results.json B/results.json

The two runs must give the same effects and the same numbers up to floating-point rounding:

* every effect's id and PASS/FAIL result, every boolean, string and list length: identical;
* every number ``a``, ``b``: ``|a - b| <= ATOL + RTOL * max(|a|, |b|)`` (NaN equals NaN);
* skipped: ``timings``, ``epoch_seconds`` (wall-clock), ``peak_rss_bytes`` and
  ``peak_rss_bytes_after`` (memory used, which depends on the libraries' builds), ``versions``
  (what differs on purpose) and each effect's ``this_run`` text (a rounded rendering of numbers compared
  elsewhere in the file).

Before comparing, the check is shown to catch a difference: a copy of A with one number moved
by 100 tolerances, and one with an effect's result flipped, must both fail. Exit status 0 when
the files agree, 1 when they do not.
"""
import copy
import json
import math
import sys

RTOL = 1e-5
ATOL = 1e-8
SKIP_KEYS = {"timings", "epoch_seconds", "peak_rss_bytes", "peak_rss_bytes_after", "versions"}
SKIP_EFFECT_KEYS = {"this_run"}


def differences(a, b, rtol=RTOL, atol=ATOL, path="", in_effects=False):
    """List of ``(path, a, b)`` where the two JSON values disagree beyond the tolerance."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return [] if type(a) is type(b) and a == b else [(path, a, b)]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if math.isnan(a) or math.isnan(b):
            return [] if math.isnan(a) and math.isnan(b) else [(path, a, b)]
        ok = a == b or abs(a - b) <= atol + rtol * max(abs(a), abs(b))
        return [] if ok else [(path, a, b)]
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k in SKIP_KEYS or (in_effects and k in SKIP_EFFECT_KEYS):
                continue
            if k not in a or k not in b:
                out.append((f"{path}/{k}", a.get(k, "<missing>"), b.get(k, "<missing>")))
            else:
                out += differences(a[k], b[k], rtol, atol, f"{path}/{k}", in_effects or k == "effects")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [(f"{path} (length)", len(a), len(b))]
        out = []
        for i, (u, v) in enumerate(zip(a, b)):
            out += differences(u, v, rtol, atol, f"{path}[{i}]", in_effects)
        return out
    return [] if type(a) is type(b) and a == b else [(path, a, b)]


def _numbers(x, path=""):
    """Paths and values of the compared, non-zero numbers of a JSON value."""
    if isinstance(x, dict):
        for k, v in x.items():
            if k not in SKIP_KEYS:
                yield from _numbers(v, f"{path}/{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _numbers(v, f"{path}[{i}]")
    elif isinstance(x, float) and math.isfinite(x) and x != 0:
        yield path, x


def _set(x, path, value):
    keys = [k for k in path.replace("[", "/[").split("/") if k]
    for k in keys[:-1]:
        x = x[int(k[1:-1])] if k.startswith("[") else x[k]
    last = keys[-1]
    if last.startswith("["):
        x[int(last[1:-1])] = value
    else:
        x[last] = value


def negative_controls(a):
    """Check that a moved number and a flipped effect are both reported as differences."""
    nums = list(_numbers(a))
    if not nums:
        raise SystemExit("compare_results: no numbers to compare in the first file")
    path, value = nums[len(nums) // 2]
    moved = copy.deepcopy(a)
    _set(moved, path, value * (1 + 100 * RTOL) + 100 * ATOL)
    if not differences(a, moved):
        raise SystemExit(f"compare_results: a number moved by 100 tolerances ({path}) went unnoticed")
    effects = a.get("effects") or []
    if effects:
        flipped = copy.deepcopy(a)
        flipped["effects"][0]["result"] = "FAIL" if effects[0].get("result") == "PASS" else "PASS"
        if not differences(a, flipped):
            raise SystemExit("compare_results: a flipped effect went unnoticed")


def main(argv):
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    with open(argv[0]) as fa, open(argv[1]) as fb:
        a, b = json.load(fa), json.load(fb)
    negative_controls(a)
    diffs = differences(a, b)
    n = sum(1 for _ in _numbers(a))
    passed = sum(e.get("result") == "PASS" for e in a.get("effects", []))
    if diffs:
        print(f"compare_results: {len(diffs)} difference(s) beyond rtol {RTOL:g}, atol {ATOL:g}:")
        for p, u, v in diffs[:30]:
            print(f"  {p}: {u!r} vs {v!r}")
        return 1
    exact = not differences(a, b, rtol=0.0, atol=0.0)
    print(f"compare_results: same effects ({passed} of {len(a.get('effects', []))} pass in both) and "
          f"{n} non-zero numbers equal within rtol {RTOL:g}, atol {ATOL:g}"
          f" ({'bit-identical' if exact else 'not bit-identical'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
