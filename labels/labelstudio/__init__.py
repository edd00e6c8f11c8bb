"""The Label Studio loop: a local server, the labelling config, push, pull, consolidation and agreement.

Modules, one concern each: ``server`` (start and stop a local Label Studio from its own venv; the
installer is tooling, ``scripts/install_labelstudio.py``), ``config`` (labelling config from the taxonomy),
``client`` (SDK access: projects, paged task lists, exports), ``push``, ``pull`` (annotation log and
consolidation) and ``annotator_agreement``; the commands are in :mod:`policytag.cli.labelstudio`.
"""
