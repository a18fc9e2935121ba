"""Helpers shared by the module and scenario tests (tests/modules, tests/scenarios, tests/pg)."""
