"""The sponsor report: one self-contained HTML page (optionally PDF) assembled from every engine.

Import from `mlscope.report.build` (jinja2) only when writing a report; `mlscope.report.plan`
is light and used by `mlscope plan`.
"""
