"""The CLI contract of `mlscope estimate training` and its error paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _quantiles_ordered(d: dict[str, float]) -> bool:
    return 0 < d["p10"] <= d["p50"] <= d["p90"]


def test_contract_json(run) -> None:  # type: ignore[no-untyped-def]
    res = run("estimate", "training", "--params", "13e9", "--tokens", "2e12",
              "--accelerator", "A100-80GB", "--count", "2048", "--json")
    assert res.code == 0, res.err
    d = res.json()
    assert d["flops"] == pytest.approx(6 * 13e9 * 2e12)
    for key in ("accelerator_hours", "wall_clock_hours", "cost_usd"):
        assert _quantiles_ordered(d[key]), key
    assert d["wall_clock_hours"]["p50"] == pytest.approx(d["accelerator_hours"]["p50"] / 2048)
    assert set(d["memory"]) >= {"per_accelerator_gb", "fits", "min_count"}
    assert d["memory"]["fits"] is True
    assert isinstance(d["assumptions"], list) and d["assumptions"]


def test_seven_b_two_t_is_8_4e22(run) -> None:  # type: ignore[no-untyped-def]
    d = run("estimate", "training", "--params", "7e9", "--tokens", "2e12",
            "--accelerator", "H100", "--count", "8", "--json").json()
    assert d["flops"] == pytest.approx(8.4e22)


@pytest.mark.parametrize("name", ["A100-40GB", "A100-80GB", "H100", "H100-SXM", "H800", "H200",
                                  "V100", "TPU-v3", "TPU-v4", "p4d.24xlarge", "ml.p5.48xlarge"])
def test_accepted_accelerator_names(run, name: str) -> None:  # type: ignore[no-untyped-def]
    res = run("estimate", "training", "--params", "1e9", "--tokens", "1e10",
              "--accelerator", name, "--count", "8", "--json")
    assert res.code == 0, res.err
    d = res.json()
    assert _quantiles_ordered(d["accelerator_hours"])


def test_tpu_has_no_dollar_figure(run) -> None:  # type: ignore[no-untyped-def]
    d = run("estimate", "training", "--params", "1e9", "--tokens", "1e10",
            "--accelerator", "TPU-v4", "--count", "8", "--json").json()
    assert "cost_usd" not in d
    assert any("no AWS instance" in a for a in d["assumptions"])


def test_moe_active_params(run) -> None:  # type: ignore[no-untyped-def]
    d = run("estimate", "training", "--params", "671e9", "--active-params", "37e9",
            "--tokens", "14.8e12", "--accelerator", "H800", "--count", "2048", "--json").json()
    assert d["flops"] == pytest.approx(6 * 37e9 * 14.8e12)


def test_instance_type_sets_per_instance(run) -> None:  # type: ignore[no-untyped-def]
    d = run("estimate", "training", "--params", "1e9", "--tokens", "1e10",
            "--accelerator", "p4d.24xlarge", "--count", "12", "--json").json()
    assert d["instance"]["type"] == "p4d.24xlarge"
    assert d["instance"]["instances"] == 2  # 12 GPUs need two 8-GPU nodes


def test_deadline_search_picks_cheapest_that_meets_it(run) -> None:  # type: ignore[no-untyped-def]
    d = run("estimate", "training", "--model", "llama-2-7b", "--tokens", "1T",
            "--deadline", "21d", "--json").json()
    best = d["best"]
    assert best is not None and best["wall_clock_hours"]["p90"] <= 21 * 24
    meeting = [o for o in d["options"] if o["meets_deadline"]]
    assert all(best["cost_usd"]["p50"] <= o["cost_usd"]["p50"] for o in meeting)
    front = d["options"]
    for a in front:  # nothing on the front dominates another member
        assert not any(b is not a and b["wall_clock_hours"]["p50"] <= a["wall_clock_hours"]["p50"]
                       and b["cost_usd"]["p50"] < a["cost_usd"]["p50"] for b in front)
    assert "wall_clock_hours" in d


def test_impossible_deadline_says_why(run) -> None:  # type: ignore[no-untyped-def]
    d = run("estimate", "training", "--params", "405e9", "--tokens", "15T",
            "--deadline", "1h", "--json").json()
    assert d["best"] is None
    assert "relax the deadline" in d["search"]["best_reason"]


def test_table_output(run) -> None:  # type: ignore[no-untyped-def]
    res = run("estimate", "training", "--model", "gpt2", "--tokens", "1e10",
              "--accelerator", "g5.xlarge", "--count", "1")
    assert res.code == 0
    assert "wall-clock" in res.out and "Assumptions" in res.out


def test_spec_estimates(run) -> None:  # type: ignore[no-untyped-def]
    d = run("estimate", "spec", EXAMPLES / "recommender" / "mlscope.yaml", "--json").json()
    assert d["method"] == "analytic-als" and _quantiles_ordered(d["cost_usd"])
    d = run("estimate", "spec", EXAMPLES / "llm-pretrain" / "mlscope.yaml", "--json").json()
    assert d["method"] == "analytic-transformer" and d["count"] == 512


@pytest.mark.parametrize(("args", "needle"), [
    (["--params", "0", "--tokens", "1e9", "--accelerator", "H100"], "must be positive"),
    (["--params", "-5", "--tokens", "1e9", "--accelerator", "H100"], "must be positive"),
    (["--params", "1e9", "--tokens", "1e9", "--accelerator", "H10"], "did you mean"),
    (["--params", "1e9", "--tokens", "1e9", "--accelerator", "p4d.24xlarg"], "did you mean"),
    (["--params", "1e9", "--tokens", "1e9", "--accelerator", "H100", "--count", "0"],
     "--count"),
    (["--params", "1e9", "--tokens", "1e9", "--count", "8"], "--count needs --accelerator"),
    (["--params", "1e9", "--tokens", "1e9"], "no hardware"),
    (["--params", "1e9", "--accelerator", "H100"], "dataset size is missing"),
    (["--model", "llama-2-7b", "--params", "70e9", "--tokens", "1e9", "--accelerator", "H100"],
     "contradicts"),
    (["--params", "1e9", "--active-params", "2e9", "--tokens", "1e9", "--accelerator", "H100"],
     "exceeds"),
    (["--params", "1e13", "--tokens", "1e9", "--accelerator", "T4"], "cannot fit"),
    (["--model", "no-such-model", "--tokens", "1e9", "--accelerator", "H100"], "unknown model"),
    (["--params", "1e9", "--tokens", "1e9", "--accelerator", "H100", "--region", "mars-1"],
     "unknown region"),
    (["--params", "1e9", "--tokens", "1e9", "--accelerator", "TPU-v4", "--deadline", "0"],
     "must be positive"),
])
def test_errors_are_one_line_exit_2(run, args: list[str], needle: str) -> None:  # type: ignore[no-untyped-def]
    res = run("estimate", "training", *args, "--json")
    assert res.code == 2, (res.out, res.err)
    assert needle in res.err
    assert res.err.strip().count("\n") == 0 and "Traceback" not in res.err


@settings(max_examples=25, deadline=None)
@given(params=st.floats(1e6, 1e12), tokens=st.floats(1e8, 1e13),
       count=st.sampled_from([8, 64, 512, 4096]))
def test_ranges_always_ordered(params: float, tokens: float, count: int) -> None:
    from mlscope.errors import DoesNotFitError
    from mlscope.estimate.shapes import resolve_shape
    from mlscope.estimate.training import TrainingSetup, estimate_training

    try:
        est = estimate_training(TrainingSetup(resolve_shape(params=params), tokens), "H100",
                                count)
    except DoesNotFitError as exc:
        # Never priced when it does not fit; the error names what would (16 B/param states).
        assert params * 16 / count > 60e9 and "smallest count that fits" in exc.one_line()
        return
    d = est.to_dict()
    assert _quantiles_ordered(d["accelerator_hours"]) and _quantiles_ordered(d["cost_usd"])
    assert d["accelerator_hours"]["p50"] > 0


def test_dataset_tokens_are_measured(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = "The quick brown fox jumps over the lazy dog. " * 200
    (corpus / "a.txt").write_text(text)
    (corpus / "b.jsonl").write_text('{"text": "hello world, this is a sample"}\n' * 50)
    res = run("estimate", "training", "--params", "1e8", "--dataset", corpus,
              "--bytes-per-token", "4", "--epochs", "3", "--accelerator", "H100",
              "--count", "1", "--json")
    assert res.code == 0, res.err
    d = res.json()
    measured = d["dataset"]["tokens"]
    assert measured > 0 and d["dataset"]["method"]
    assert d["tokens"] == pytest.approx(measured * 3)
    assert d["flops"] == pytest.approx(6 * 1e8 * measured * 3)
    res = run("estimate", "training", "--params", "1e8", "--dataset", corpus, "--tokens", "1e9",
              "--accelerator", "H100")
    assert res.code == 2 and "--tokens and --dataset" in res.err


def test_als_spec_searches_cpu_instances(run) -> None:  # type: ignore[no-untyped-def]
    d = run("estimate", "spec", EXAMPLES / "recommender" / "mlscope.yaml", "--json").json()
    best, deadline = d["best"], d["deadline_hours"]
    assert best is not None and best["wall_clock_hours"]["p90"] <= deadline
    assert all(o["accelerator"] == "" for o in d["options"])
    meeting = [o for o in d["options"] if o["meets_deadline"]]
    assert all(best["cost_usd"]["p50"] <= o["cost_usd"]["p50"] for o in meeting)
