"""`mlscope audit verify`: replay the log and check that everything else agrees with it.

1. The chain, the head file and every entry's signature (forged or edited entries fail).
2. Every anchor (git branch history, S3 Object Lock): truncation, deletion and rewrites fail.
3. No change is half done (an intent without its commit).
4. The registry's aliases are what the log's committed promotions and rollbacks say.
5. Every promotion to production named signed approvals of the same artifact, for that
   environment, by people other than the author.
6. Every registered version's files still have the digest recorded when it was registered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlscope.release import history
from mlscope.release.anchor import anchors_from, check_against
from mlscope.release.approvals import APPROVE, registration
from mlscope.release.digest import dir_digest
from mlscope.release.promotion import Release, pending_intents
from mlscope.release.registry import RegistryUnavailableError


@dataclass
class Finding:
    check: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "detail": self.detail}


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    head: str = ""
    entries: int = 0
    unsigned: int = 0

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    def add(self, check: str, ok: bool, detail: str) -> None:
        self.findings.append(Finding(check, ok, detail))

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "head": self.head, "entries": self.entries,
                "unsigned": self.unsigned, "findings": [f.as_dict() for f in self.findings]}


def verify_release(release: Release, anchor: str | None = None,
                   check_registry: bool = True) -> Report:
    report = Report()
    signers = release.policy.signers if release.policy else None
    chain = release.log.verify(anchor, signers)
    report.head, report.entries, report.unsigned = chain.head, chain.entries, chain.unsigned
    report.add("chain", chain.ok, chain.message)
    entries = release.log.entries()
    hashes = [str(e.get("hash")) for e in entries]
    cfg = release.policy.section.anchor if release.policy else None
    for a in anchors_from(cfg):
        problem = check_against(a.records(), hashes)
        report.add("anchor", problem is None,
                   problem or f"agrees with {a.describe()} ({len(a.records())} anchors)")
    if not chain.ok:
        return report
    if release.policy is not None and release.policy.section.anchor is None:
        report.add("anchor", True, "no anchor configured: a writer able to rewrite the whole "
                   "log is not detected (set release.anchor)")
    pending = pending_intents(entries)
    report.add("pending", not pending, "no half-done changes" if not pending else
               f"{len(pending)} change(s) started but not finished (entry "
               f"{pending[0]['seq']}): run `mlscope audit repair`")
    if check_registry:
        _check_registry(release, entries, report)
    _check_prod_approvals(release, entries, report)
    if report.unsigned:
        report.add("identity", True, f"{report.unsigned} entries were written in "
                   "local-development mode (unsigned, flagged)")
    return report


def _models(entries: list[dict[str, Any]]) -> list[str]:
    return sorted({str(e["subject"]).rsplit(":", 1)[0] for e in entries
                   if e.get("action") == "register"})


def _check_registry(release: Release, entries: list[dict[str, Any]], report: Report) -> None:
    for model in _models(entries):
        try:
            actual = release.registry.aliases(model)
        except RegistryUnavailableError as exc:
            report.add("aliases", False, f"cannot read the registry: {exc.problem}")
            return
        expected = {k: v for k, v in history.holders(entries, model).items() if v is not None}
        for env in sorted(set(actual) | set(expected)):
            if env not in release.environments:
                continue
            ok = actual.get(env) == expected.get(env)
            report.add("aliases", ok, f"{model}@{env}: registry v{actual.get(env)}, log "
                       f"v{expected.get(env)}" + ("" if ok else " (changed outside mlscope)"))
        for version in sorted(set(actual.values())):
            reg = registration(entries, model, version)
            if reg is None:
                report.add("artifacts", False, f"{model} v{version} holds an alias but was "
                           "never registered through mlscope")
                continue
            digest = dir_digest(release.registry.artifact_dir(model, version))
            ok = digest == reg.artifact_digest
            report.add("artifacts", ok, f"{model} v{version} files " + (
                "match their registered digest" if ok else
                f"changed since registration ({digest[:19]}... vs {reg.artifact_digest[:19]}...)"))


def _check_prod_approvals(release: Release, entries: list[dict[str, Any]],
                          report: Report) -> None:
    if release.policy is None:
        return
    prod = release.policy.production
    signers = release.policy.signers
    by_hash = {e["hash"]: e for e in entries}
    for e in entries:
        after = e.get("after") or {}
        if e.get("action") != "promote" or after.get("env") != prod:
            continue
        model, version = str(e["subject"]).rsplit(":", 1)
        reg = registration([x for x in entries if x["seq"] < e["seq"]], model, int(version))
        good = []
        for h in after.get("approvals") or []:
            a = by_hash.get(h)
            if (a is None or a.get("action") != APPROVE or a["seq"] > e["seq"]
                    or (a.get("after") or {}).get("env") != prod
                    or (a.get("after") or {}).get("artifact_digest") != after.get(
                        "artifact_digest")):
                continue
            who = release.log.signer_of(a, signers)
            if who is not None and reg is not None and who != (
                    signers.canonical(reg.author) if signers else reg.author):
                good.append(who)
        ok = len(set(good)) >= 1
        report.add("approvals", ok, f"entry {e['seq']}: {model} v{version} to {prod} with "
                   f"{len(set(good))} signed independent approval(s)"
                   + ("" if ok else " (promoted without a valid approval)"))
