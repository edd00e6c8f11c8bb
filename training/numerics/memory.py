"""Handing memory back to the OS after a conversion: freed heap pages and the checkpoint file's pages.

A model just loaded from safetensors holds views of the memory-mapped file. Once a block is
converted its fp32 weights are unused, but their file pages stay resident (and glibc keeps freed
heap pages) until told otherwise: these functions tell them, so a server's memory after loading a
fast path is the converted model's, not the converted model's plus the fp32 checkpoint's.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import os
from pathlib import Path

import torch

__all__ = ["checkpoint_mappings", "drop_file_pages", "release_free_memory"]

_MADV_DONTNEED = 4  # <sys/mman.h> on Linux


def release_free_memory() -> None:
    """Hand memory freed by a conversion back to the OS (glibc keeps freed heap pages otherwise)."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if name and "libc.so" in name:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(name).malloc_trim(0)


def checkpoint_mappings() -> list[tuple[int, int]]:
    """Address ranges of this process's private mappings of ``.safetensors`` files (Linux; else none)."""
    try:
        lines = Path("/proc/self/maps").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    ranges = []
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[1].endswith("p") and fields[5].endswith(".safetensors"):
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            ranges.append((lo, hi))
    return ranges


def drop_file_pages(tensors: list[torch.Tensor], mapped: list[tuple[int, int]]) -> None:
    """Drop the resident pages of ``tensors`` that lie in a checkpoint file mapping from ``mapped``.

    Only whole pages inside a tensor, in a private mapping of the file: reading one again faults the
    file's bytes back in. A write made in place since loading would be lost, so callers pass only
    tensors that the model has just stopped using (replaced by their converted copies).
    """
    if not mapped:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    page = os.sysconf("SC_PAGE_SIZE")
    for t in tensors:
        if t.device.type != "cpu":  # device memory is no file mapping
            continue
        start = t.data_ptr()
        end = start + t.numel() * t.element_size()
        for lo, hi in mapped:
            first = max(lo, -(-start // page) * page)
            last = min(hi, end // page * page)
            if last > first:
                libc.madvise(ctypes.c_void_p(first), ctypes.c_size_t(last - first), _MADV_DONTNEED)
