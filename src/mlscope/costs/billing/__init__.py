"""Billing truth: actual AWS cost from billing exports (CUR 2.0, legacy CUR, FOCUS) via DuckDB."""
