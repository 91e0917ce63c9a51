"""Fractions parser, placeholder checks and command filling."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlscope.errors import InputError
from mlscope.estimate.empirical.plan import (
    check_command,
    fill_command,
    parse_fractions,
    plan_runs,
    run_env,
)

valid = st.floats(min_value=1e-6, max_value=1.0, allow_nan=False)


@given(st.lists(valid, min_size=2, max_size=8, unique=True))
def test_valid_fractions_round_trip_sorted(values: list[float]) -> None:
    text = ",".join(repr(v) for v in values)
    assert parse_fractions(text) == sorted(values)


@given(st.lists(valid, min_size=1, max_size=5), st.one_of(
    st.floats(max_value=0.0), st.floats(min_value=1.0000001), st.just(math.nan)))
def test_any_fraction_outside_zero_one_is_rejected(values: list[float], bad: float) -> None:
    text = ",".join(repr(v) for v in [*values, bad])
    with pytest.raises(InputError, match=r"outside \(0, 1\]"):
        parse_fractions(text)


@given(st.text(alphabet="abcxyz-_ ", min_size=1, max_size=6).filter(lambda s: s.strip()))
def test_words_are_not_fractions(word: str) -> None:
    with pytest.raises(InputError, match="not a number"):
        parse_fractions(f"0.1,{word}")


def test_percent_and_spaces_are_understood() -> None:
    assert parse_fractions(" 1%, 0.05 ,10% ") == [0.01, 0.05, 0.1]


def test_a_single_distinct_fraction_is_not_enough() -> None:
    with pytest.raises(InputError, match="at least two"):
        parse_fractions("0.1,0.1")


def test_command_must_carry_the_fraction() -> None:
    with pytest.raises(InputError) as err:
        check_command(["python", "train.py"], uses_env=False, has_data=False)
    assert "--uses-env" in err.value.one_line() and "{fraction}" in err.value.one_line()
    check_command(["python", "train.py"], uses_env=True, has_data=False)
    check_command(["python", "train.py", "--frac={fraction}"], uses_env=False, has_data=False)
    with pytest.raises(InputError) as err:
        check_command(["python", "t.py", "{sample_path}"], uses_env=False, has_data=False)
    assert "--data" in err.value.one_line()
    with pytest.raises(InputError) as err:
        check_command([], uses_env=True, has_data=False)
    assert "after `--`" in err.value.one_line()


def test_only_known_placeholders_are_replaced() -> None:
    argv = ["python", "-c", "print({'a': 1})", "--f={fraction}", "{threads}", "{sample_path}"]
    assert fill_command(argv, 0.05, "/tmp/s.csv", 1) == [
        "python", "-c", "print({'a': 1})", "--f=0.05", "1", "/tmp/s.csv"]


def test_serial_runs_limit_every_thread_pool() -> None:
    env = run_env({}, 0.1, 1, None)
    assert env["MLSCOPE_FRACTION"] == "0.1"
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "1"
    assert "OMP_NUM_THREADS" not in run_env({}, 0.1, None, None)


def test_repeats_are_interleaved_after_one_warmup() -> None:
    runs = plan_runs([0.1, 0.2], repeats=2, warmup=True, serial_check=True)
    assert [(r.fraction, r.repeat, r.threads, r.warmup) for r in runs] == [
        (0.1, 0, None, True), (0.1, 0, None, False), (0.2, 0, None, False),
        (0.1, 1, None, False), (0.2, 1, None, False), (0.2, 0, 1, False), (0.2, 1, 1, False)]
    assert len({r.key for r in runs}) == len(runs)
