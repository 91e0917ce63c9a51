"""mlscope."""
