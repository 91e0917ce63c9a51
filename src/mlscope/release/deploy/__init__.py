"""Deploy targets: `local` (a background uvicorn process) and `aws` (SageMaker endpoints).

Every deploy, traffic shift and stop appends an entry to the audit log under the caller's
identity. boto3 and the serving stack are imported only by the target that needs them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlscope.errors import MlscopeError

TARGETS = ("local", "aws")


class DeployError(MlscopeError):
    """A deployment that did not complete; the message says what still serves."""


def record(action: str, subject: str, reason: str = "", before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None) -> dict[str, Any]:
    """Append one audit entry for a deploy action, bound to the current identity."""
    from mlscope.release.audit import default_audit_log
    from mlscope.release.identity import current_identity

    return default_audit_log().append(current_identity(), action, subject, reason,
                                      before=before, after=after)


@contextmanager
def recorded_failure(subject: str, attempted: dict[str, Any]) -> Iterator[None]:
    """Audit a deploy that failed (`deploy_failed`, with the reason) before re-raising it."""
    try:
        yield
    except DeployError as exc:
        record("deploy_failed", subject, exc.one_line(), before={}, after=attempted)
        raise
