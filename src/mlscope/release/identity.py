"""Who is acting: approvals, promotions and audit entries are bound to an identity."""

from __future__ import annotations

import os
import re
import subprocess

from mlscope.errors import InputError

USER_ENV = "MLSCOPE_USER"
_VALID = re.compile(r"[A-Za-z0-9._%+@:/=\- ]{1,200}")
_FIX = ("set MLSCOPE_USER (e.g. `export MLSCOPE_USER=you@example.com`) or "
        "`git config --global user.email you@example.com`")


def _git_email() -> str:
    try:
        done = subprocess.run(["git", "config", "user.email"], capture_output=True, text=True,
                              timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def validate_identity(value: str) -> str:
    ident = value.strip()
    if not _VALID.fullmatch(ident):
        raise InputError(f"identity {ident[:40]!r} is not a plain name or e-mail address", _FIX)
    return ident


def current_identity() -> str:
    """MLSCOPE_USER, else `git config user.email`; InputError with the fix when neither is set."""
    env = os.environ.get(USER_ENV, "").strip()
    if env:
        return validate_identity(env)
    email = _git_email()
    if email:
        return validate_identity(email)
    raise InputError("no identity to record approvals and promotions under", _FIX)
