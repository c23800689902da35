"""The data tests use ``tiny_suite`` and ``suite_copy`` from tests/conftest.py."""
