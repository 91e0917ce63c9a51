"""Post a `billing check` result to a webhook: JSON for any receiver, Slack-compatible text.

Slack incoming webhooks read `text` (and ignore other keys); other receivers get the whole
result under `mlscope`. The URL is never printed (it is a credential for Slack).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from mlscope.errors import InputError

TIMEOUT_S = 10


def message(result: dict[str, Any], project: str) -> dict[str, Any]:
    month = result["month"]
    if result["ok"]:
        text = f"mlscope billing check {project} {month}: OK"
    else:
        lines = "\n".join(f"• {r}" for r in result["reasons"])
        text = f":warning: mlscope billing check {project} {month}: " \
               f"{len(result['reasons'])} problem(s)\n{lines}"
    return {"text": text, "mlscope": {"project": project, **result}}


def post(url: str, payload: dict[str, Any]) -> int:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError("--webhook must be an http(s) URL", "pass e.g. https://hooks.slack.com/...")
    body = json.dumps(payload, default=str).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    host = parts.hostname or "?"
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        raise InputError(f"the webhook at {host} answered HTTP {exc.code}",
                         "check the webhook URL") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InputError(f"cannot reach the webhook at {host}: {reason}",
                         "check the webhook URL and the network") from None
