"""Issue 14 *Why* item 9: bodies over the limit are refused before they are parsed, arbitrary
HTTP method names cannot grow /metrics, and secrets never reach logs or error messages."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from mlscope.serving.app import create_app
from mlscope.serving.source import PointerFileSource


def _series(url: str, name: str) -> int:
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(len(f.samples) for f in text_string_to_metric_families(text) if f.name == name)


def test_a_63_mb_body_is_refused_with_413(source: PointerFileSource,
                                          live_server: Callable[[Any], str]) -> None:
    url = live_server(create_app(source, max_body_bytes=1_000_000))
    big = b'{"user_id": "' + b"a" * 63_000_000 + b'"}'
    res = httpx.post(f"{url}/recommend", content=big, timeout=60,
                     headers={"content-type": "application/json"})
    assert res.status_code == 413

    def chunks() -> Any:  # no Content-Length: the stream is counted
        for _ in range(3):
            yield b"x" * 600_000

    res = httpx.post(f"{url}/predict", content=chunks(), timeout=60,
                     headers={"content-type": "application/json"})
    assert res.status_code == 413
    ok = httpx.post(f"{url}/recommend", json={"user_id": "u1", "k": 2}, timeout=10)
    assert ok.status_code == 200


def test_arbitrary_methods_and_paths_do_not_grow_metrics(
        source: PointerFileSource, live_server: Callable[[Any], str]) -> None:
    url = live_server(create_app(source))
    httpx.get(f"{url}/healthz", timeout=10)
    before = _series(url, "mlscope_requests")
    for i in range(40):
        httpx.request(f"FOO{i}", f"{url}/x{i}", timeout=10)
    assert _series(url, "mlscope_requests") - before <= 2  # one "other"/"other" series


def test_common_secret_formats_are_redacted() -> None:
    from mlscope.release.redact import redact_text

    secrets = [
        "AKIAIOSFODNN7EXAMPLE",
        "FwoGZXIvYXdzEJr//////////wEaDOgUyP3yJwH0example0session0token",
        "hf_abcdefghijklmnopqrstuvwxyz0123",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "AIzaSyD-1234567890abcdefghijklmnopqrstu",
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abcdefghijklmnopqrstuvwxyz012345==",
        "https://x.blob.core.windows.net/c?sv=2022&sig=abcdefghijklmnopqrstuvwx%3D",
        "xoxb-123456789012-abcdefghijklmnop",
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    ]
    for secret in secrets:
        out = redact_text(f"failed with {secret} today")
        assert "[REDACTED]" in out, secret
        core = max(re.split(r"[=;&?/]", secret), key=len)  # the secret part itself
        assert core[-12:] not in out, secret


def test_credentials_in_tracking_uris_are_masked_in_errors(monkeypatch: Any) -> None:
    import pytest

    from mlscope.release.redact import mask_url
    from mlscope.release.registry import Registry, RegistryUnavailableError

    assert mask_url("https://bob:hunter2@mlflow.example/") == \
        "https://bob:[REDACTED]@mlflow.example/"
    assert "hunter2" not in mask_url("postgresql://u:hunter2@db/mlflow")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    registry = Registry("http://bob:hunter2@127.0.0.1:9/")
    with pytest.raises(RegistryUnavailableError) as err:
        registry.alias_version("m", "prod")
    assert "hunter2" not in err.value.one_line()
