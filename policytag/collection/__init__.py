"""Tagging whole collections of reports: ``policytag tag`` and ``policytag report``.

A collection job reads many documents (``.txt``/``.md``/``.html``/``.pdf``/``.docx``, through
:mod:`policytag.labels.documents`), splits them into sentences with offsets, tags every sentence with a
model folder's predictor and writes two Parquet tables (:mod:`policytag.collection.schema`): one row a
sentence, one row a document. The job resumes: a document whose sha256 is already in the results is
skipped. ``--engine ray`` runs the same steps on Ray Data. ``policytag report`` turns the tables into
charts and one HTML page.

This package sits beside :mod:`policytag.serving` in the layer contract: it uses the predictor
interface (:mod:`policytag.training.predictor`), never a kind's internals.
"""
