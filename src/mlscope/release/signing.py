"""SSH signatures (`ssh-keygen -Y sign/verify`, the mechanism git uses for signed commits).

Who someone is comes from the allowed-signers file committed in the repository, never from an
environment variable: a signature made with a key listed there names its principal. One line
may list several principals for one key (`alice@example.com,a.smith@corp.example ssh-ed25519
...`); the first is the canonical identity, the others are aliases. Identities are compared
case-insensitively and by key fingerprint, so one person cannot count twice.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlscope.errors import EngineMissingError, InputError

NAMESPACE = "mlscope"
_GOOD = re.compile(r'Good "[^"]+" signature for (\S+) with \S+ key (SHA256:[A-Za-z0-9+/=]+)')
_TIMEOUT_S = 30


def normalize_identity(value: str) -> str:
    """Case and surrounding space do not make a different person."""
    return value.strip().casefold()


def ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if not found:
        raise EngineMissingError("signed approvals need ssh-keygen (OpenSSH), which is not "
                                 "installed", "apt-get install openssh-client")
    return found


@dataclass(frozen=True)
class Signature:
    principal: str  # canonical (first listed, normalized) identity
    fingerprint: str  # SHA256:... of the signing key
    armored: str  # the -----BEGIN SSH SIGNATURE----- block


class AllowedSigners:
    """The committed allowed-signers file and the identities it defines."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"allowed-signers file {self.path} does not exist",
                             "commit one line per person: `EMAIL namespaces=\"mlscope\" "
                             "ssh-ed25519 AAAA...` (see docs/release.md)")
        self._aliases: dict[str, str] = {}
        self._written: dict[str, str] = {}  # normalized name -> as written (ssh-keygen -I)
        for line in self.path.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            raw = [n.strip() for n in text.split()[0].split(",") if n.strip()]
            names = [normalize_identity(n) for n in raw]
            for name, written in zip(names, raw, strict=True):
                self._aliases.setdefault(name, names[0])
                self._written.setdefault(name, written)

    def canonical(self, identity: str) -> str:
        """The canonical identity for a principal or one of its aliases (else normalized)."""
        key = normalize_identity(identity)
        return self._aliases.get(key, key)

    def knows(self, identity: str) -> bool:
        return normalize_identity(identity) in self._aliases

    def verify(self, data: bytes, armored: str, claimed: str | None = None) -> Signature | None:
        """The signer when `armored` is a valid signature of `data` by a listed key, else None.

        With `claimed` (the identity an entry names) one `ssh-keygen -Y verify` checks that
        this principal's key made the signature; without it the principal is looked up first.
        """
        exe = ssh_keygen()
        with tempfile.TemporaryDirectory(prefix="mlscope-sig-") as tmp:
            sig = Path(tmp) / "data.sig"
            sig.write_text(armored)
            if claimed is not None:
                principal = self._written.get(self.canonical(claimed), claimed)
            else:
                found = subprocess.run([exe, "-Y", "find-principals", "-s", str(sig), "-f",
                                        str(self.path), "-n", NAMESPACE], capture_output=True,
                                       text=True, timeout=_TIMEOUT_S, check=False)
                if found.returncode != 0 or not found.stdout.strip():
                    return None
                principal = found.stdout.split()[0].split(",")[0]
            done = subprocess.run([exe, "-Y", "verify", "-f", str(self.path), "-I", principal,
                                   "-n", NAMESPACE, "-s", str(sig)], input=data,
                                  capture_output=True, timeout=_TIMEOUT_S, check=False)
        out = (done.stdout + done.stderr).decode(errors="replace")
        match = _GOOD.search(out)
        if done.returncode != 0 or match is None:
            return None
        return Signature(self.canonical(principal), match.group(2), armored)


def sign(data: bytes, key: Path) -> str:
    """An armored SSH signature of `data` with the private key at `key`."""
    exe = ssh_keygen()
    if not Path(key).is_file():
        raise InputError(f"signing key {key} does not exist",
                         "set MLSCOPE_SIGNING_KEY to your SSH private key (the one listed in "
                         "the allowed-signers file)")
    done = subprocess.run([exe, "-Y", "sign", "-q", "-f", str(key), "-n", NAMESPACE],
                          input=data, capture_output=True, timeout=_TIMEOUT_S, check=False)
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise InputError(f"ssh-keygen could not sign with {key}: "
                         f"{reason[-1] if reason else 'unknown error'}",
                         "use an unencrypted key or load it into ssh-agent")
    return done.stdout.decode()


def fingerprint(public_key_line: str) -> str:
    exe = ssh_keygen()
    with tempfile.NamedTemporaryFile("w", suffix=".pub") as fh:
        fh.write(public_key_line.strip() + "\n")
        fh.flush()
        done = subprocess.run([exe, "-lf", fh.name], capture_output=True, text=True,
                              timeout=_TIMEOUT_S, check=False)
    parts = done.stdout.split()
    if done.returncode != 0 or len(parts) < 2:
        raise InputError("not an SSH public key")
    return parts[1]
