"""Thin command-line shell: parse, call the library, print (rich table or --json)."""
