"""The app through FastAPI's TestClient: answers, 422 reasons, fallbacks, metrics, reloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlscope.serving.app import create_app
from mlscope.serving.source import PointerFileSource, write_pointer
from mlscope.serving.synthetic import random_artifact, save_artifact


@pytest.fixture
def client(source: PointerFileSource) -> Any:
    with TestClient(create_app(source, model_name="rec")) as c:
        yield c


def metric(client: TestClient, name: str, **labels: str) -> float:
    """Read one sample from /metrics (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def test_recommends_top_k_from_the_model(client: TestClient, artifacts: dict[str, Path]) -> None:
    res = client.post("/recommend", json={"user_id": "u3", "k": 5, "exclude": ["i1"]})
    assert res.status_code == 200
    body = res.json()
    expected = random_artifact("1", seed=1).recommend("u3", 5, {"i1"})
    assert [i["item_id"] for i in body["items"]] == [i for i, _ in expected]
    assert body["model_version"] == "1" and body["fallback"] is False


def test_unknown_user_gets_the_popular_baseline_and_is_counted(
        client: TestClient, artifacts: dict[str, Path]) -> None:
    res = client.post("/recommend", json={"user_id": "nobody", "k": 3})
    assert res.status_code == 200
    body = res.json()
    assert body["fallback"] is True and body["fallback_reason"] == "unknown_user"
    popular = random_artifact("1", seed=1).popular(3)
    assert [i["item_id"] for i in body["items"]] == popular
    assert metric(client, "mlscope_fallbacks_total", reason="unknown_user") == 1


def test_a_model_with_nan_weights_is_never_swapped_in(client: TestClient, pointer: Path,
                                                      tmp_path: Path) -> None:
    art = random_artifact("2", seed=2)
    art.item_factors[:] = np.nan  # a diverged training run
    write_pointer(pointer, "2", save_artifact(art, tmp_path / "nan"))
    res = client.post("/admin/reload")
    assert res.status_code == 409 and "NaN" in res.json()["error"]
    body = client.post("/recommend", json={"user_id": "u1"}).json()
    assert body["model_version"] == "1" and body["fallback"] is False


def test_files_that_differ_from_their_digest_are_refused(client: TestClient, pointer: Path,
                                                         artifacts: dict[str, Path]) -> None:
    write_pointer(pointer, "2", artifacts["2"], digest="sha256:" + "0" * 64)
    res = client.post("/admin/reload")
    assert res.status_code == 409 and "digest" in res.json()["error"]


@pytest.mark.parametrize(("payload", "field"), [
    ({"k": 5}, "user_id"),
    ({"user_id": "u1", "k": 0}, "k"),
    ({"user_id": "u1", "k": "5"}, "k"),
    ({"user_id": "u1", "k": 101}, "k"),
    ({"user_id": 7}, "user_id"),
    ({"user_id": "u1", "exclude": ["ok", ""]}, "exclude.1"),
    ({"user_id": "u1", "colour": "red"}, "colour"),
])
def test_bad_input_is_422_with_the_field_and_reason(
        client: TestClient, payload: dict[str, Any], field: str) -> None:
    res = client.post("/recommend", json=payload)
    assert res.status_code == 422
    reasons = res.json()["reasons"]
    assert any(r["field"] == field and r["reason"] for r in reasons), reasons


def test_malformed_json_is_422(client: TestClient) -> None:
    res = client.post("/recommend", content=b'{"user_id": ',
                      headers={"content-type": "application/json"})
    assert res.status_code == 422
    assert res.json()["reasons"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10),
                                                                      children, max_size=4),
    max_leaves=12)
# The client fixture is stateless between examples, so reusing it is safe.
FIXTURES_OK = [HealthCheck.function_scoped_fixture]
bad_payloads = st.one_of(
    json_values.filter(lambda v: not isinstance(v, dict)),
    st.fixed_dictionaries({"user_id": json_values}),
    st.fixed_dictionaries({"user_id": st.just("u1"), "k": json_values}),
    st.fixed_dictionaries({"user_id": st.just("u1"), "exclude": json_values}),
)


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURES_OK)
@given(payload=bad_payloads)
def test_arbitrary_payloads_never_cause_a_500(client: TestClient, payload: Any) -> None:
    res = client.post("/recommend", content=json.dumps(payload).encode(),
                      headers={"content-type": "application/json"})
    assert res.status_code in (200, 422), res.text
    if res.status_code == 422:
        assert all(r["reason"] for r in res.json()["reasons"])


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES_OK)
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_never_cause_a_500(client: TestClient, raw: bytes) -> None:
    res = client.post("/recommend", content=raw, headers={"content-type": "application/json"})
    assert res.status_code in (200, 422)


def test_health_readiness_version_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"ready": True, "model_version": "1"}
    client.post("/recommend", json={"user_id": "u1"})
    assert metric(client, "mlscope_model_version_info", model="rec", version="1") == 1
    assert metric(client, "mlscope_requests_total", route="/recommend", status="200") == 1
    assert metric(client, "mlscope_request_latency_seconds_count", route="/recommend") == 1


def test_not_ready_without_a_model(tmp_path: Path) -> None:
    with TestClient(create_app(PointerFileSource(tmp_path / "missing.json"))) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "does not exist" in ready.json()["error"]
        assert client.post("/recommend", json={"user_id": "u1"}).status_code == 503
        assert metric(client, "mlscope_errors_total", kind="reload") == 1


def test_admin_reload_swaps_and_updates_metrics(client: TestClient, pointer: Path,
                                                artifacts: dict[str, Path]) -> None:
    write_pointer(pointer, "2", artifacts["2"])
    res = client.post("/admin/reload")
    assert res.json() == {"swapped": True, "version": "2", "previous": "1", "error": None}
    assert client.post("/recommend", json={"user_id": "u1"}).json()["model_version"] == "2"
    assert metric(client, "mlscope_model_version_info", model="rec", version="2") == 1
    assert metric(client, "mlscope_model_version_info", model="rec", version="1") == 0
    assert metric(client, "mlscope_model_swaps_total") == 1


def test_a_broken_new_version_keeps_the_old_one_serving(
        client: TestClient, pointer: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    write_pointer(pointer, "3", empty)
    res = client.post("/admin/reload")
    assert res.status_code == 409 and res.json()["version"] == "1"
    assert client.post("/recommend", json={"user_id": "u1"}).json()["model_version"] == "1"


def test_admin_reload_requires_the_token_when_one_is_set(source: PointerFileSource) -> None:
    with TestClient(create_app(source, admin_token="s3cret")) as client:
        assert client.post("/admin/reload").status_code == 403
        assert client.post("/admin/reload", headers={"x-admin-token": "wrong"}).status_code == 403
        assert client.post("/admin/reload", headers={"x-admin-token": "s3cret"}).status_code == 200


def test_request_logs_are_json_without_bodies(client: TestClient,
                                              caplog: pytest.LogCaptureFixture) -> None:
    from mlscope.serving.logs import JsonFormatter

    with caplog.at_level("INFO", logger="mlscope.serving.access"):
        client.post("/recommend", json={"user_id": "nobody", "exclude": ["secret-item"]})
    records = [r for r in caplog.records if r.name == "mlscope.serving.access"]
    assert records
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["route"] == "/recommend" and line["status"] == 200
    assert line["fallback"] == "unknown_user" and line["model_version"] == "1"
    assert "secret-item" not in json.dumps(line)


def test_sagemaker_contract_routes(client: TestClient) -> None:
    assert client.get("/ping").status_code == 200
    res = client.post("/invocations", json={"dataframe_records": [
        {"user_id": "u2", "k": 2, "exclude": []}]})
    assert res.status_code == 200, res.text
    assert len(res.json()["predictions"][0]["items"]) == 2
    assert client.post("/invocations", json={"user_id": ""}).status_code == 422


def test_request_ids_are_echoed_or_made_up(client: TestClient) -> None:
    given = client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    unsafe = client.get("/healthz", headers={"x-request-id": "bad id\twith tab"})
    assert len(unsafe.headers["x-request-id"]) == 32 and " " not in unsafe.headers["x-request-id"]
