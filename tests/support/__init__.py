"""Helpers the tests import (fixtures stay in conftest.py): paths, configs, servers, Label Studio, benchmarks."""
