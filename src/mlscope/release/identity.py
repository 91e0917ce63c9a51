"""Who is acting. Verified: an SSH key listed in the committed allowed-signers file signs every
entry the actor writes. Unverified: only in explicit local-development mode
(`MLSCOPE_LOCAL_DEV=1`), where the name comes from MLSCOPE_USER or `git config user.email` and
every entry is flagged `unsigned`; unsigned approvals never count for production.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mlscope.errors import InputError
from mlscope.release.signing import AllowedSigners, normalize_identity, sign

USER_ENV = "MLSCOPE_USER"
KEY_ENV = "MLSCOPE_SIGNING_KEY"
LOCAL_DEV_ENV = "MLSCOPE_LOCAL_DEV"
_VALID = re.compile(r"[A-Za-z0-9._%+@:/=\- ]{1,200}")
_FIX = ("set MLSCOPE_SIGNING_KEY to your SSH private key listed in the allowed-signers file "
        "(or, on your own machine only, MLSCOPE_LOCAL_DEV=1 with MLSCOPE_USER)")


def _git(key: str) -> str:
    try:
        done = subprocess.run(["git", "config", key], capture_output=True, text=True,
                              timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def validate_identity(value: str) -> str:
    ident = value.strip()
    if not _VALID.fullmatch(ident):
        raise InputError(f"identity {ident[:40]!r} is not a plain name or e-mail address", _FIX)
    return ident


def local_dev_mode() -> bool:
    return os.environ.get(LOCAL_DEV_ENV, "").strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class Actor:
    """The person or job acting; `key` is set for verified (signing) actors."""

    name: str  # canonical, normalized identity
    key: Path | None = None
    fingerprint: str | None = None

    @property
    def verified(self) -> bool:
        return self.key is not None

    def sign(self, data: bytes) -> str | None:
        return sign(data, self.key) if self.key is not None else None


def signing_key() -> Path | None:
    raw = os.environ.get(KEY_ENV, "").strip() or _git("user.signingkey")
    if not raw:
        return None
    path = Path(raw).expanduser()
    # git allows the public key path in user.signingkey; ssh-keygen -Y sign wants the private.
    if path.suffix == ".pub" and path.with_suffix("").is_file():
        path = path.with_suffix("")
    return path


def current_actor(signers: AllowedSigners | None) -> Actor:
    """The verified actor (a key the allowed-signers file lists), or the local-dev actor."""
    key = signing_key()
    if key is not None:
        if signers is None:
            raise InputError("a signing key is set but the policy names no allowed-signers file",
                             "set release.allowed_signers in mlscope.yaml")
        # Prove possession: sign a probe and let the allowed-signers file say who that is.
        probe = b"mlscope identity probe"
        armored = sign(probe, key)
        found = signers.verify(probe, armored)
        if found is None:
            raise InputError(f"the key {key} is not in the allowed-signers file {signers.path}",
                             "add its public key there in a reviewed commit")
        return Actor(found.principal, key, found.fingerprint)
    if local_dev_mode():
        raw = os.environ.get(USER_ENV, "").strip() or _git("user.email")
        if not raw:
            raise InputError("no identity for local-development mode", "set MLSCOPE_USER")
        name = normalize_identity(validate_identity(raw))
        return Actor(signers.canonical(name) if signers else name)
    raise InputError("no verified identity to act under", _FIX)


def current_identity() -> str:
    """A label for who is acting (verified when a signing key and a policy are found, else
    MLSCOPE_USER or git's e-mail). Only a label: entries that need trust take an Actor."""
    from mlscope.release.policy import find_policy

    if signing_key() is not None or local_dev_mode():
        policy = find_policy()
        return current_actor(policy.signers if policy else None).name
    raw = os.environ.get(USER_ENV, "").strip() or _git("user.email")
    if not raw:
        raise InputError("no identity to record this under", _FIX)
    return normalize_identity(validate_identity(raw))
