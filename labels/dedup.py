"""Exact and near-duplicate detection for documents and sentences.

Pages are reposted, mirrored and converted to traditional characters, and report boilerplate
("坚持以习近平新时代中国特色社会主义思想为指导") recurs across localities. Everything here compares
*normalised* text: NFKC, traditional → simplified characters, letters and digits only.

* :func:`sentence_key` is the key under which two sentences count as the same sentence.
* :func:`minhash` / :func:`near_duplicate_groups` find near-duplicate documents with MinHash over
  character 5-gram shingles and locality-sensitive hashing (``datasketch``); two documents whose
  estimated Jaccard similarity is at least ``threshold`` (default :data:`NEAR_DUPLICATE_THRESHOLD`)
  fall into one group.

Example:
    >>> sentence_key("一、  深化行政复议體制改革!") == sentence_key("一、深化行政复议体制改革")
    True
    >>> page = "法律援助中心办理案件一百件。" * 5
    >>> near_duplicate_groups({"a": page, "b": page + "完", "c": "社区矫正"})
    [['a', 'b'], ['c']]
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping

__all__ = [
    "NEAR_DUPLICATE_THRESHOLD",
    "NUM_PERM",
    "SHINGLE",
    "jaccard",
    "minhash",
    "near_duplicate_groups",
    "normalise",
    "sentence_key",
    "shingles",
]

# Character 5-grams: long enough that unrelated reports share few, short enough that a repost with
# other page chrome keeps most of them.
SHINGLE = 5
NUM_PERM = 128
# datasketch 2 names the permutation scheme of stored signatures; this one is its default.
SCHEME = "affine32"
# Two copies of one page with different navigation and footers measured 0.6-0.95 here; two reports
# of one office in different years stay below 0.3. 0.5 keeps one copy of the first and both of the second.
NEAR_DUPLICATE_THRESHOLD = 0.5


def normalise(text: str) -> str:
    """NFKC, simplified characters, letters and digits only, lower case."""
    import zhconv  # a character table, imported on use: only corpus building needs it

    text = zhconv.convert(unicodedata.normalize("NFKC", text), "zh-cn")
    return "".join(ch for ch in text.lower() if unicodedata.category(ch)[0] in "LN")


def sentence_key(text: str) -> str:
    """The key under which two sentences are the same: sha1 of the normalised text (16 hex)."""
    return hashlib.sha1(normalise(text).encode("utf-8")).hexdigest()[:16]


def shingles(text: str, k: int = SHINGLE) -> set[str]:
    """The character ``k``-grams of the normalised text (the whole text when shorter)."""
    norm = normalise(text)
    if len(norm) <= k:
        return {norm} if norm else set()
    return {norm[i : i + k] for i in range(len(norm) - k + 1)}


def minhash(text: str) -> list[int]:
    """A MinHash signature (:data:`NUM_PERM` values) of ``text``'s shingles; seeded, so stable across runs."""
    from datasketch import MinHash

    m = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME)
    m.update_batch([s.encode("utf-8") for s in sorted(shingles(text))])
    return [int(v) for v in m.hashvalues]


def jaccard(sig_a: list[int], sig_b: list[int]) -> float:
    """Estimated Jaccard similarity of two signatures from :func:`minhash`."""
    if len(sig_a) != len(sig_b):
        raise ValueError(f"signatures of different lengths ({len(sig_a)} and {len(sig_b)})")
    return sum(a == b for a, b in zip(sig_a, sig_b, strict=True)) / len(sig_a)


def near_duplicate_groups(texts: Mapping[str, str], *, threshold: float = NEAR_DUPLICATE_THRESHOLD) -> list[list[str]]:
    """Group the keys of ``texts`` whose documents are near-duplicates (transitively).

    Groups keep the mapping's order, and so does the list of groups (by first member): callers put the
    copy they prefer to keep first.
    """
    import numpy as np
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    keys = list(texts)
    sigs = {k: minhash(texts[k]) for k in keys}
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    for k in keys:
        lsh.insert(k, LeanMinHash(seed=1, hashvalues=np.array(sigs[k], dtype=np.uint64), scheme=SCHEME))
    parent = {k: k for k in keys}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    order = {k: i for i, k in enumerate(keys)}
    for k in keys:
        probe = MinHash(num_perm=NUM_PERM, seed=1, hashvalues=np.array(sigs[k], dtype=np.uint64), scheme=SCHEME)
        for other in lsh.query(probe):
            # LSH proposes candidates; the signatures' own estimate decides.
            if other != k and jaccard(sigs[k], sigs[other]) >= threshold:
                ra, rb = find(k), find(other)
                if ra != rb:
                    first, second = sorted((ra, rb), key=order.__getitem__)
                    parent[second] = first
    groups: dict[str, list[str]] = {}
    for k in keys:
        groups.setdefault(find(k), []).append(k)
    return sorted(groups.values(), key=lambda g: order[g[0]])
