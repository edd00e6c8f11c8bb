"""Tests of policytag.labels.documents: every format, the encodings, the refusals."""
