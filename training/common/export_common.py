"""What the image and audio exporters share: fixed-point CDF tables for the C++ entropy coder
(native/core/entropy/cdf_tables.h) and file digests for the manifest."""
import hashlib

import numpy as np

PRECISION = 16
MAX_RANGE = 255  # table support is clipped to [-255, 255]; beyond it values are escaped
TAIL = 1e-5  # mass trimmed from each tail of a table before escaping


def to_table(counts):
    """counts over values -MAX_RANGE..MAX_RANGE -> (offset, cdf) with an escape symbol last."""
    total = counts.sum()
    values = np.arange(-MAX_RANGE, MAX_RANGE + 1)
    if total < 1:
        counts = np.zeros_like(counts)
        counts[MAX_RANGE] = 100
        counts[MAX_RANGE - 1] = counts[MAX_RANGE + 1] = 1
        total = counts.sum()
    cum = np.cumsum(counts) / total
    lo = int(np.searchsorted(cum, TAIL))
    hi = int(np.searchsorted(cum, 1 - TAIL))
    lo = min(lo, MAX_RANGE - 1)
    hi = max(hi, MAX_RANGE + 1)  # always cover -1..1
    inside = counts[lo : hi + 1].astype(np.float64) + 0.5
    escaped = counts[:lo].sum() + counts[hi + 1 :].sum() + 0.5
    probs = np.append(inside, escaped)
    budget = (1 << PRECISION) - len(probs)
    freqs = 1 + np.floor(probs / probs.sum() * budget).astype(np.int64)
    freqs[np.argmax(freqs)] += (1 << PRECISION) - freqs.sum()  # exact total
    cdf = np.concatenate([[0], np.cumsum(freqs)])
    assert cdf[-1] == 1 << PRECISION and np.all(np.diff(cdf) > 0)
    return int(values[lo]), [int(v) for v in cdf]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()
