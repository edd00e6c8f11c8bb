"""The Label Studio loop: a local server, the labelling config, push, pull, consolidation and agreement.

Modules, one concern each: ``server`` (install and start Label Studio in ``.venv-ls``), ``config``
(labelling config from the taxonomy), ``client`` (SDK access: projects, paged task lists, exports),
``push``, ``pull`` (annotation log and consolidation), ``annotator_agreement`` and ``commands`` (the CLI).
"""
