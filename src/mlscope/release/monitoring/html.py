"""The drift report as one self-contained HTML page (no JavaScript, no network), per window.

Each feature gets a small paired bar chart of the reference and current distributions (20 bins
of the reference's range for numeric features, one bar per category otherwise), drawn as SVG.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from mlscope.errors import require

W, H = 220, 48
REF, CUR = "#0072B2", "#E69F00"


def _bars(ref: list[float], cur: list[float]) -> str:
    top = max(max(ref, default=0), max(cur, default=0)) or 1.0
    n = max(len(ref), 1)
    step = W / n
    parts = [f'<svg width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img">']
    for i, (r, c) in enumerate(zip(ref, cur, strict=True)):
        for j, (v, colour) in enumerate(((r, REF), (c, CUR))):
            h = (H - 2) * v / top
            x = i * step + j * step / 2
            parts.append(f'<rect x="{x:.1f}" y="{H - h:.1f}" width="{max(step / 2 - 0.5, 0.5):.1f}"'
                         f' height="{h:.1f}" fill="{colour}"/>')
    parts.append("</svg>")
    return "".join(parts)


def feature_svg(reference: list[object], current: list[object], kind: str) -> str:
    if kind == "numeric":
        r = np.asarray([float(v) for v in reference if v is not None])  # type: ignore[arg-type]
        c = np.asarray([float(v) for v in current if v is not None])  # type: ignore[arg-type]
        edges = np.linspace(float(r.min()), float(r.max()), 21)
        edges[0], edges[-1] = -np.inf, np.inf
        rh = np.histogram(r, edges)[0] / len(r)
        ch = np.histogram(c, edges)[0] / len(c)
        return _bars(rh.tolist(), ch.tolist())
    rc, cc = Counter(map(str, reference)), Counter(map(str, current))
    cats = [k for k, _ in (rc + cc).most_common(20)]
    return _bars([rc[k] / len(reference) for k in cats], [cc[k] / len(current) for k in cats])


def write_html(report: dict[str, Any], reference: dict[str, list[object]],
               current: dict[str, list[object]], out: str | Path,
               reference_name: str, current_name: str) -> Path:
    jinja2 = require("jinja2", "report")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mlscope.release.monitoring", "templates"),
        autoescape=True)
    features = [{**f, "p_value": f.get("p_value"), "distance": f.get("distance"),
                 "psi": f.get("psi"),
                 "svg": feature_svg(reference[f["name"]], current[f["name"]], f["kind"])}
                for f in report["features"]]
    html = env.get_template("drift.html.j2").render(
        **{k: v for k, v in report.items() if k != "features"}, features=features,
        drifted=[f["name"] for f in features if f["drift"]],
        reference_name=reference_name, current_name=current_name)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
