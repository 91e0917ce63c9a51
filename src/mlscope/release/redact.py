"""Keep secrets out of logs and the audit log: anything that looks like a key, token or password.

Two rules: values stored under secret-sounding keys (password, token, api_key, ...) are replaced
whole, and free text is scanned for well-known credential shapes (AWS keys, GitHub/Slack tokens,
JWTs, bearer tokens, `password=...` pairs, private-key blocks, URLs with passwords).
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[REDACTED]"

_SECRET_WORDS = {"password", "passwd", "passphrase", "pwd", "secret", "token", "apikey",
                 "credential", "credentials", "authorization", "cookie"}
_SECRET_PAIRS = ("api_key", "access_key", "secret_key", "private_key", "client_secret",
                 "auth_token", "session_token", "session_key")

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # key=value / key: value pairs whose key sounds secret (keep the key, drop the value)
    (re.compile(r"(?i)\b([A-Za-z0-9_.-]*(?:pass(?:word|wd|phrase)?|secret|token|api[_-]?key|"
                r"access[_-]?key|credential|pwd)[A-Za-z0-9_.-]*)(\s*[:=]\s*|\s+is\s+)"
                r"(['\"]?)[^\s'\",;]+\3"), r"\1\2" + REDACTED),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)",
                re.DOTALL), REDACTED),
    (re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"), REDACTED),
    (re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b"), REDACTED),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"), REDACTED),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}\b"), REDACTED),
    # Stripe (sk_live_, rk_live_, whsec_), Hugging Face, Google API keys, Slack webhooks/app
    (re.compile(r"\b(?:[sr]k|pk)_(?:live|test)_[A-Za-z0-9]{10,}\b"), REDACTED),
    (re.compile(r"\bwhsec_[A-Za-z0-9]{16,}\b"), REDACTED),
    (re.compile(r"\bhf_[A-Za-z0-9]{20,}\b"), REDACTED),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), REDACTED),
    (re.compile(r"\bya29\.[0-9A-Za-z_-]{20,}"), REDACTED),
    (re.compile(r"\bxapp-[A-Za-z0-9-]{10,}\b"), REDACTED),
    (re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+"), REDACTED),
    # Azure storage connection strings and SAS signatures
    (re.compile(r"(?i)\b(AccountKey|SharedAccessKey)=[A-Za-z0-9+/=]{20,}"), r"\1=" + REDACTED),
    (re.compile(r"(?i)([?&]sig=)[A-Za-z0-9%+/=]{16,}"), r"\1" + REDACTED),
    # AWS session tokens (long base64 runs starting with the STS prefixes)
    (re.compile(r"\b(?:FwoGZXIvYXdzE|IQoJb3JpZ2luX2Vj|AQoDYXdzE)[A-Za-z0-9/+=]{20,}"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"), REDACTED),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{12,}"), r"\1 " + REDACTED),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]+):[^\s@/]+@"), r"\1:" + REDACTED + "@"),
    # a long high-entropy run (40-char AWS secret keys and the like)
    (re.compile(r"(?<![A-Za-z0-9/+])(?=[A-Za-z0-9/+]*[0-9])(?=[A-Za-z0-9/+]*[A-Z])"
                r"(?=[A-Za-z0-9/+]*[a-z])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"), REDACTED),
]


def redact_text(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return mask_url(text)


def is_secret_key(key: str) -> bool:
    """`github_token`, `DB_PASSWORD`, `apiKey` are secret; `max_tokens`, `author` are not."""
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key).lower().replace("-", "_")
    if any(pair in snake for pair in _SECRET_PAIRS):
        return True
    return any(word in _SECRET_WORDS for word in re.split(r"[^a-z0-9]+", snake))


def redact(value: Any) -> Any:
    """A copy of `value` (str, dict, list, scalars) with secrets replaced by [REDACTED]."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {str(k): (REDACTED if is_secret_key(str(k)) and v not in (None, "") else redact(v))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def mask_url(text: str) -> str:
    """`scheme://user:password@host/...` with the password (or a lone token user) masked."""
    return re.sub(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s:/@]+)(:[^\s@/]*)?@",
                  lambda m: f"{m.group(1)}{m.group(2)}:{REDACTED}@" if m.group(3)
                  else f"{m.group(1)}{REDACTED}@", text)
