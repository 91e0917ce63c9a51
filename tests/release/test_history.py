from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlscope.errors import InputError
from mlscope.release.history import AliasHistory, parse_when


def test_holder_at_and_rollback_stack(tmp_path: Path) -> None:
    h = AliasHistory(tmp_path / "h.jsonl")
    assert h.rollback_target("m", "prod") is None
    h.record("m", "prod", 1, None, "a", "promote")
    after_first = datetime.now(UTC)
    h.record("m", "prod", 2, 1, "a", "promote")
    h.record("m", "qa", 3, None, "a", "promote")
    h.record("m", "prod", 3, 2, "a", "promote")
    assert h.rollback_target("m", "prod") == 2
    h.record("m", "prod", 2, 3, "b", "rollback")
    # A second rollback walks further back instead of toggling between 2 and 3.
    assert h.rollback_target("m", "prod") == 1
    event = h.holder_at("m", "prod", after_first)
    assert event is not None and event.version == 1
    assert h.holder_at("m", "prod", after_first - timedelta(days=1)) is None
    latest = h.holder_at("m", "prod", datetime.now(UTC))
    assert latest is not None and latest.version == 2 and latest.cause == "rollback"
    assert [e.version for e in h.events("m", "qa")] == [3]
    assert h.log.verify().ok


def test_parse_when() -> None:
    assert parse_when("2026-11-26").hour == 23
    assert parse_when("2026-11-26T10:00:00Z").tzinfo is not None
    assert parse_when("2026-11-26T10:00:00") == datetime(2026, 11, 26, 10, tzinfo=UTC)
    with pytest.raises(InputError) as err:
        parse_when("last tuesday")
    assert "ISO 8601" in err.value.one_line()


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_parse_when_round_trips(when: datetime) -> None:
    assert parse_when(when.isoformat()) == when.replace(tzinfo=UTC)
