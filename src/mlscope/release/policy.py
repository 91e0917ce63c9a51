"""The release policy, read from the committed spec: gates, the pinned evaluation set, who may
approve, whose signatures count. Its digest is recorded when a version is registered and every
promotion reloads the policy and refuses when it is missing or its digest differs, so the
caller cannot choose the gates (`--spec` pointing at a near-empty file, a folder without a
spec). A minimal production policy applies whatever the spec says: the version must hold the
environment before production, one signed approval from someone other than the author, no
request-set overrides.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlscope.errors import InputError
from mlscope.release.digest import file_digest, json_digest
from mlscope.release.signing import AllowedSigners
from mlscope.spec.release import EnvironmentGates, EvaluationSet, ReleaseSection

SPEC_ENV = "MLSCOPE_SPEC"
DEFAULT_SPEC = "mlscope.yaml"
MIN_PROD_APPROVALS = 1


@dataclass
class Policy:
    section: ReleaseSection
    spec_path: Path
    signers: AllowedSigners | None
    evaluation_path: Path | None
    digest: str
    committed: bool  # the spec and the signers file are committed and unmodified in git
    commit: str | None
    sources: dict[str, str] = field(default_factory=dict)  # file -> sha256

    @property
    def environments(self) -> tuple[str, ...]:
        return tuple(self.section.environments)

    @property
    def production(self) -> str:
        envs = self.section.environments
        return self.section.production if self.section.production in envs else envs[-1]

    @property
    def evaluation(self) -> EvaluationSet | None:
        return self.section.evaluation

    def gates(self, env: str) -> EnvironmentGates:
        """The spec's gates for `env`, with the minimal production policy laid over them."""
        gates = self.section.gates.get(env) or EnvironmentGates()
        if env != self.production:
            return gates
        envs = self.section.environments
        before = envs[envs.index(env) - 1] if envs.index(env) > 0 else None
        return gates.model_copy(update={
            "approvals": max(gates.approvals, MIN_PROD_APPROVALS),
            "requires": gates.requires or before})

    def approvers(self, env: str) -> set[str] | None:
        names = self.section.approvers.get(env)
        if not names:
            return None
        return {self.signers.canonical(n) if self.signers else n.strip().casefold()
                for n in names}

    def as_dict(self) -> dict[str, Any]:
        return {"digest": self.digest, "spec": str(self.spec_path), "committed": self.committed,
                "commit": self.commit, "sources": self.sources}


def _resolve(base: Path, raw: str) -> Path:
    path = Path(raw)
    return path if path.is_absolute() else (base / path)


def _git_state(files: list[Path]) -> tuple[bool, str | None]:
    """(committed and unmodified, HEAD commit) for files inside a git work tree."""
    top = files[0].parent
    try:
        head = subprocess.run(["git", "-C", str(top), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=False)
        if head.returncode != 0:
            return False, None
        for f in files:
            tracked = subprocess.run(["git", "-C", str(top), "ls-files", "--error-unmatch",
                                      str(f.resolve())], capture_output=True, timeout=10,
                                     check=False)
            if tracked.returncode != 0:
                return False, head.stdout.strip()
        clean = subprocess.run(["git", "-C", str(top), "diff", "--quiet", "HEAD", "--",
                                *[str(f.resolve()) for f in files]], capture_output=True,
                               timeout=10, check=False)
        return clean.returncode == 0, head.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return False, None


def load_policy(spec_path: Path) -> Policy:
    """The policy of the spec at `spec_path`; InputError when it is missing or inconsistent."""
    from mlscope.spec import load_spec

    path = Path(spec_path)
    if path.is_dir():
        path = path / DEFAULT_SPEC
    if not path.is_file():
        raise InputError(f"no release policy: {path} does not exist",
                         "run from the repository that holds mlscope.yaml, or set MLSCOPE_SPEC")
    section = load_spec(path).release
    base = path.resolve().parent
    sources = {str(path): file_digest(path)}
    signers = None
    if section.allowed_signers:
        signers_path = _resolve(base, section.allowed_signers)
        signers = AllowedSigners(signers_path)
        sources[str(signers_path)] = file_digest(signers_path)
    eval_path = None
    if section.evaluation is not None:
        eval_path = _resolve(base, section.evaluation.path)
        if not eval_path.is_file():
            raise InputError(f"the policy's evaluation set {eval_path} does not exist",
                             "commit it beside mlscope.yaml")
        actual = file_digest(eval_path)
        if actual != section.evaluation.sha256:
            raise InputError(f"the evaluation set {eval_path.name} has sha256 {actual[:12]}..., "
                             f"not the {section.evaluation.sha256[:12]}... the policy pins",
                             "restore the committed file, or pin the new digest in a reviewed "
                             "commit")
        sources[str(eval_path)] = actual
    # The digest covers what the policy means (the parsed section, minus where the registry
    # lives) and the files it names by content, not by path.
    body = section.model_dump(mode="json", exclude={"tracking_uri"})
    digest = json_digest({"release": body,
                          "allowed_signers": sources.get(str(signers.path)) if signers else None,
                          "evaluation": sources.get(str(eval_path)) if eval_path else None})
    # The spec and the signers must be committed; the evaluation set is pinned by content in
    # the committed spec, so it may be generated (MovieLens may not be redistributed).
    committed, commit = _git_state([Path(p) for p in sources if Path(p) != eval_path])
    return Policy(section, path.resolve(), signers, eval_path, digest, committed, commit,
                  {Path(k).name: v for k, v in sources.items()})


def spec_location(given: str | Path | None = None) -> Path:
    raw = str(given) if given else os.environ.get(SPEC_ENV, "").strip() or DEFAULT_SPEC
    return Path(raw)


def find_policy(given: str | Path | None = None) -> Policy | None:
    """The policy when a spec is found (given, $MLSCOPE_SPEC, ./mlscope.yaml), else None."""
    path = spec_location(given)
    if given is None and not os.environ.get(SPEC_ENV) and not path.exists():
        return None
    return load_policy(path)
