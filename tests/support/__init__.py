"""Helpers shared by the tests (imported, never fixtures: those stay in conftest.py)."""
