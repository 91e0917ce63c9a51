"""Shared value types every layer may use: ranges, units and constants, formatting.

This package sits at the very bottom of the layering (see `mlscope/__init__.py`): it imports
nothing from mlscope, so spec, catalog, engines, report and cli can all depend on it.
"""
