"""Headless Chromium: print the report to PDF, and load it to check what a browser sees.

Run with the flags that keep it off the network (no sync, no component updates, no background
requests) and with a throwaway profile, so it behaves the same on a laptop and in CI.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlscope.errors import EngineMissingError, MlscopeError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 90
_CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\] (.*)$")


def find_chromium() -> str:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise EngineMissingError("headless Chromium is not installed (needed for --pdf and the "
                             "browser check)", "apt-get install chromium")


def _flags(profile: str) -> list[str]:
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--hide-scrollbars", f"--user-data-dir={profile}",
            "--enable-logging=stderr", "--v=0"]


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    binary = find_chromium()
    with tempfile.TemporaryDirectory(prefix="mlscope-chromium-") as profile:
        try:
            return subprocess.run([binary, *_flags(profile), *args], capture_output=True,
                                  text=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise MlscopeError(f"Chromium did not finish within {TIMEOUT_S} s",
                               "run again; if it persists, check `chromium --version`") from None


def console_messages(stderr: str) -> list[str]:
    """What the page wrote to the console (Chromium logs each message as a CONSOLE line)."""
    return [m.group(1) for line in stderr.splitlines() if (m := _CONSOLE.search(line))]


def print_pdf(html: Path, pdf: Path) -> Path:
    pdf.unlink(missing_ok=True)
    proc = _run(["--no-pdf-header-footer", f"--print-to-pdf={pdf.resolve()}",
                 html.resolve().as_uri()])
    if not pdf.exists() or pdf.stat().st_size == 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        raise MlscopeError(f"Chromium did not write the PDF ({tail[0]})",
                           "check that `chromium --headless` runs on this machine")
    return pdf


# Injected into a copy of the page: records errors, then what was laid out, into the DOM.
_PROBE_HEAD = """<script>window.__probeErrors=[];
addEventListener('error',function(e){__probeErrors.push(String(e.message||
 (e.target&&(e.target.src||e.target.href))||'resource error'))},true);
(function(){var ce=console.error;console.error=function(){
 __probeErrors.push([].map.call(arguments,String).join(' '));ce.apply(console,arguments)}})();
</script>"""
_PROBE_TAIL = """<script>(function(){var out={errors:__probeErrors,sections:[],charts:[],
 height:document.documentElement.scrollHeight};
document.querySelectorAll('section.report-section').forEach(function(s){
 out.sections.push({id:s.id,status:s.dataset.status||'ok',top:s.getBoundingClientRect().top,
 heading:(s.querySelector('h2')||{}).textContent||''})});
document.querySelectorAll('figure svg').forEach(function(g){var b=g.getBoundingClientRect();
 out.charts.push({section:g.closest('section').id,cls:g.getAttribute('class')||'',
 width:b.width,height:b.height,marks:g.querySelectorAll('rect,circle,path,polygon,polyline,line,text').length})});
out.keys=[];document.querySelectorAll('[data-key]').forEach(function(k){
 var b=k.getBoundingClientRect();out.keys.push({key:k.dataset.key,text:k.textContent.trim(),
 top:b.top,bottom:b.bottom})});
out.fonts={};document.querySelectorAll('figure[class*=figure-]').forEach(function(f){
 var g=f.querySelector('svg');if(!g||!g.viewBox||!g.viewBox.baseVal)return;
 var scale=g.getBoundingClientRect().width/g.viewBox.baseVal.width,least=1e9;
 g.querySelectorAll('text').forEach(function(t){var fs=parseFloat(t.getAttribute('font-size')||
 getComputedStyle(t).fontSize);if(fs&&fs*scale<least)least=fs*scale});
 var kind=f.className.replace(/.*figure-/,'');out.fonts[kind]=least});
var p=document.createElement('pre');p.id='mlscope-probe';p.textContent=JSON.stringify(out);
document.body.appendChild(p)})();</script>"""


@dataclass
class PageCheck:
    """What Chromium saw when it loaded the page."""

    console: list[str]
    errors: list[str]
    sections: list[dict[str, Any]]
    charts: list[dict[str, Any]]
    height: int
    screenshot: Path | None = None
    keys: list[dict[str, Any]] = field(default_factory=list)  # [data-key] elements, laid out
    fonts: dict[str, float] = field(default_factory=dict)  # figure kind -> smallest text, px
    raw: dict[str, Any] = field(default_factory=dict)


def check_page(html: Path, screenshot: Path | None = None, width: int = 1280,
               height: int = 800) -> PageCheck:
    """Load `html` in headless Chromium; report console output, sections, laid-out charts, the
    elements marked `data-key` (with their place, for first-screen checks) and the smallest
    text, in CSS px, of each kind of diagram as the page shows it.

    The checks run on a probed copy beside the page (so relative links still resolve); the
    screenshot is of the page itself, full height.
    """
    page = html.read_text(encoding="utf-8")
    probed = html.with_name(f".probe-{html.name}")
    probed.write_text(page.replace("<head>", "<head>" + _PROBE_HEAD, 1)
                      .replace("</body>", _PROBE_TAIL + "</body>", 1), encoding="utf-8")
    try:
        proc = _run([f"--window-size={width},{height}", "--virtual-time-budget=3000",
                     "--dump-dom", probed.resolve().as_uri()])
    finally:
        probed.unlink(missing_ok=True)
    m = re.search(r'<pre id="mlscope-probe">(.*?)</pre>', proc.stdout, flags=re.S)
    if not m:
        raise MlscopeError("Chromium did not run the page probe (no DOM dumped)",
                           "check that `chromium --headless --dump-dom` works here")
    import html as html_lib

    data = json.loads(html_lib.unescape(m.group(1)))
    console = console_messages(proc.stderr)
    shot = None
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        shot_proc = _run([f"--window-size={width},{int(data['height']) + 20}",
                          f"--screenshot={screenshot.resolve()}", html.resolve().as_uri()])
        console += console_messages(shot_proc.stderr)
        shot = screenshot if screenshot.exists() else None
    return PageCheck(console=console, errors=list(data["errors"]), sections=data["sections"],
                     charts=data["charts"], height=int(data["height"]), screenshot=shot,
                     keys=data["keys"], fonts=data["fonts"], raw=data)
