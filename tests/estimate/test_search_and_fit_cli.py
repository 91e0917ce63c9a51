"""The reproductions of issue 11 through the CLI: search, fit, spot, named instances, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlscope.catalog import get_catalog
from mlscope.pricing import LARGE_SPOT_FLEET

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _proposable(options: list[dict]) -> None:  # type: ignore[type-arg]
    catalog = get_catalog()
    for o in options:
        assert catalog.accelerator(o["accelerator"]).use == "training", o
        inst = catalog.instance(o["instance_type"], o["region"])
        assert o["instances"] == 1 or inst.fast_interconnect, o
        assert o["memory_gb"] <= catalog.accelerator(o["accelerator"]).memory_gb
        assert o["strategy"]["description"]
        if o["purchase"] == "spot":
            assert o["instances"] < LARGE_SPOT_FLEET, o


@pytest.mark.parametrize("args", [
    ["--model", "llama-2-70b", "--finetune", "qlora", "--tokens", "50M", "--deadline", "3d"],
    ["--params", "7e9", "--tokens", "2e12", "--deadline", "30d", "--search-purchase",
     "on-demand"],
    ["--params", "7e9", "--tokens", "2e12", "--deadline", "30d"],
])
def test_search_proposes_only_what_can_train(run, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    d = run("estimate", "training", *args, "--json").json()
    assert d["best"] is not None
    _proposable([d["best"], *d["options"]])
    # The table above the recommendation is the recommended configuration.
    assert d["count"] == d["best"]["count"] and d["instance"]["type"] == d["best"]["instance_type"]
    assert d["strategy"]["description"] and "spot" in d


def test_named_instance_is_respected(run) -> None:  # type: ignore[no-untyped-def]
    d = run("estimate", "training", "--params", "7e9", "--tokens", "1T", "--accelerator",
            "p5.48xlarge", "--deadline", "14d", "--json").json()
    assert {o["instance_type"] for o in d["options"]} == {"p5.48xlarge"}
    assert d["best"]["instance_type"] == d["instance"]["type"] == "p5.48xlarge"


def test_named_accelerator_table_matches_recommendation(run) -> None:  # type: ignore[no-untyped-def]
    d = run("estimate", "training", "--params", "7e9", "--tokens", "2e12", "--accelerator",
            "H100", "--deadline", "14d", "--json").json()
    assert d["count"] == d["best"]["count"]
    assert d["wall_clock_hours"]["p50"] == pytest.approx(d["best"]["wall_clock_hours"]["p50"])


def test_spot_wall_clock_includes_interruptions_everywhere(run) -> None:  # type: ignore[no-untyped-def]
    d = run("estimate", "training", "--params", "7e9", "--tokens", "2e12", "--accelerator",
            "H100", "--count", "256", "--purchase", "spot", "--json").json()
    assert d["wall_clock_hours"] == d["wall_clock_by_purchase"]["spot"]
    assert d["wall_clock_hours"]["p50"] > d["wall_clock_by_purchase"]["on-demand"]["p50"]
    assert d["spot"]["viable"] and d["spot"]["time_factor"]["p50"] > 1.0
    assert any("rarely available" in a for a in d["assumptions"])  # 32 nodes: capacity warning
    longer = run("estimate", "training", "--params", "7e9", "--tokens", "2e12", "--accelerator",
                 "H100", "--count", "256", "--purchase", "spot", "--checkpoint-interval", "4h",
                 "--json").json()
    assert longer["spot"]["time_factor"]["p50"] > d["spot"]["time_factor"]["p50"]


def test_too_many_spot_nodes_is_an_error(run) -> None:  # type: ignore[no-untyped-def]
    res = run("estimate", "training", "--params", "7e9", "--tokens", "2e12", "--accelerator",
              "H100", "--count", "4096", "--purchase", "spot", "--interruptions-per-node-hour",
              "0.01")
    assert res.code == 2 and "no progress" in res.err


def test_one_gpu_jobs_on_the_smallest_instance(run) -> None:  # type: ignore[no-untyped-def]
    for acc, itype in (("L40S", "g6e.xlarge"), ("A10G", "g5.xlarge"), ("T4", "g4dn.xlarge")):
        d = run("estimate", "training", "--params", "1e9", "--finetune", "lora", "--tokens",
                "10M", "--accelerator", acc, "--count", "1", "--json").json()
        assert d["instance"]["type"] == itype, acc
    d = run("estimate", "training", "--params", "65e9", "--finetune", "qlora", "--recompute",
            "full", "--tokens", "50M", "--accelerator", "L40S", "--count", "1", "--json").json()
    assert d["instance"]["type"] == "g6e.xlarge" and d["memory"]["fits"]


def test_not_fitting_is_exit_2_naming_what_fits(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    res = run("estimate", "training", "--model", "llama-2-70b", "--tokens", "1T",
              "--accelerator", "A100-80GB", "--count", "8", "--json")
    assert res.code == 2 and "smallest count that fits is" in res.err and not res.out
    spec = (EXAMPLES / "llm-pretrain" / "mlscope.yaml").read_text()
    spec = spec.replace("name: llama-2-7b", "name: llama-2-70b").replace("count: 512",
                                                                          "count: 8")
    f = tmp_path / "mlscope.yaml"
    f.write_text(spec)
    res = run("estimate", "spec", f, "--json")
    assert res.code == 2 and "does not fit" in res.err


def test_training_run_cost_raises_with_its_reason(tmp_path: Path) -> None:
    from mlscope.errors import DoesNotFitError
    from mlscope.estimate.api import training_run_cost
    from mlscope.spec import load_spec

    spec = (EXAMPLES / "llm-pretrain" / "mlscope.yaml").read_text()
    f = tmp_path / "mlscope.yaml"
    f.write_text(spec.replace("name: llama-2-7b", "name: llama-2-70b")
                 .replace("count: 512", "count: 8"))
    with pytest.raises(DoesNotFitError):
        training_run_cost(load_spec(str(f)))
    cost = training_run_cost(load_spec(str(EXAMPLES / "llm-pretrain" / "mlscope.yaml")))
    assert cost is not None and 0 < cost["p10"] < cost["p50"] < cost["p90"]


def test_example_spec_fits_with_tensor_parallel_and_is_priced(run) -> None:  # type: ignore[no-untyped-def]
    d = run("estimate", "spec", EXAMPLES / "llm-pretrain" / "mlscope.yaml", "--json").json()
    assert d["memory"]["fits"] and d["strategy"]["tensor_parallel"] >= 2
    assert d["strategy"]["zero_stage"] == 1 and d["strategy"]["recompute"] == "selective"


def test_tpu_v5e_search_says_no_aws_instance(run) -> None:  # type: ignore[no-untyped-def]
    # Named hardware that no AWS instance carries is bad input: one line, exit 2, no "fit".
    res = run("estimate", "training", "--params", "7e9", "--tokens", "1T", "--accelerator",
              "TPU-v5e", "--deadline", "14d", "--json")
    assert res.code == 2 and not res.out
    assert "no AWS instance" in res.err and "TPU-v5e" in res.err and "fit" not in res.err
    assert res.err.strip().count("\n") == 0


def test_trainium2_names_its_instance(run) -> None:  # type: ignore[no-untyped-def]
    d = run("estimate", "training", "--params", "7e9", "--tokens", "1T", "--accelerator",
            "Trainium2", "--count", "64", "--json").json()
    assert any("trn2.48xlarge" in a for a in d["assumptions"])
    assert not any("no AWS instance carries" in a for a in d["assumptions"])


@pytest.mark.parametrize(("flag", "value"), [
    ("--params", "nan"), ("--tokens", "inf"), ("--epochs", "nan"), ("--epochs", "-inf"),
    ("--deadline", "inf"), ("--budget", "nan"), ("--interruptions-per-node-hour", "nan"),
    ("--checkpoint-interval", "inf"), ("--active-params", "nan"),
])
def test_nan_and_inf_are_one_line_exit_2(run, flag: str, value: str) -> None:  # type: ignore[no-untyped-def]
    args = {"--params": "7e9", "--tokens": "1e12", "--accelerator": "H100", "--count": "8"}
    args[flag] = value
    if flag in ("--deadline", "--budget"):
        args.pop("--count")
    res = run("estimate", "training", *[x for kv in args.items() for x in kv], "--json")
    assert res.code == 2, (res.out, res.err)
    assert res.err.strip().count("\n") == 0 and "Traceback" not in res.err


def test_bytes_per_token_nan(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.txt").write_text("some text " * 100)
    res = run("estimate", "training", "--params", "1e8", "--dataset", tmp_path,
              "--bytes-per-token", "nan", "--accelerator", "H100", "--count", "1")
    assert res.code == 2 and res.err.strip().count("\n") == 0


def test_contract_keys_stay_and_new_keys_are_added(run) -> None:  # type: ignore[no-untyped-def]
    d = run("estimate", "training", "--params", "13e9", "--tokens", "2e12", "--accelerator",
            "A100-80GB", "--count", "2048", "--json").json()
    for key in ("method", "model", "tokens", "accelerator", "count", "count_source", "flops",
                "hardware_flops", "mfu", "accelerator_hours", "wall_clock_hours", "instance",
                "cost_usd", "purchase", "cost_by_purchase", "energy_kwh", "memory",
                "assumptions", "sources"):
        assert key in d, key
    assert set(d["memory"]) >= {"per_accelerator_gb", "capacity_gb", "fits", "min_count",
                                "zero_stage", "breakdown_gb"}
    assert set(d["strategy"]) >= {"zero_stage", "recompute", "tensor_parallel",
                                  "pipeline_parallel", "data_parallel", "pipeline_bubble"}
    assert set(d["spot"]) >= {"interruptions_per_node_hour", "checkpoint_interval_hours",
                              "restart_hours", "time_factor", "flags"}
    assert d["hfu"]["p50"] >= d["mfu"]["p50"]


def test_vision_cli(run) -> None:  # type: ignore[no-untyped-def]
    d = run("estimate", "training", "--model", "vit-b-16", "--samples", "1.28M", "--epochs",
            "30", "--accelerator", "A100", "--count", "8", "--json").json()
    assert d["method"] == "analytic-vision" and d["flops"] == pytest.approx(
        6 * 17.6e9 * 1.28e6 * 30)
    assert d["cost_usd"]["p50"] > 0 and "io" in d
    res = run("estimate", "training", "--model", "resnet-50", "--tokens", "1e9",
              "--accelerator", "A100", "--count", "8")
    assert res.code == 2 and "--samples" in res.err
    res = run("estimate", "training", "--model", "resnet-50", "--samples", "nan",
              "--accelerator", "A100", "--count", "8")
    assert res.code == 2 and res.err.strip().count("\n") == 0
    table = run("estimate", "training", "--model", "resnet-50", "--samples", "1.28M",
                "--accelerator", "A100", "--count", "8")
    assert table.code == 0 and "samples x epochs" in table.out


@pytest.mark.parametrize(("extra", "needle"), [
    (["--tensor-parallel", "3"], "not a multiple"),
    (["--tensor-parallel", "16"], "stays within a node"),
    (["--pipeline-parallel", "3"], "not a multiple"),
])
def test_bad_parallel_degrees(run, extra: list[str], needle: str) -> None:  # type: ignore[no-untyped-def]
    res = run("estimate", "training", "--params", "7e9", "--tokens", "1e11", "--accelerator",
              "H100", "--count", "8", *extra)
    assert res.code == 2 and needle in res.err and res.err.strip().count("\n") == 0


@pytest.mark.parametrize("args", [
    # A fine-tune (fixed start-up, evaluation and checkpoint costs) and an IO-bound run (a
    # 100k-parameter model on 1e12 tokens) are where the search used to price less than the
    # estimate printed above it.
    ["--model", "llama-2-70b", "--finetune", "qlora", "--tokens", "50M", "--deadline", "3d"],
    ["--params", "1e5", "--tokens", "1e12", "--deadline", "30d"],
    ["--params", "7e9", "--tokens", "2e11", "--budget", "200000"],
])
def test_recommendation_is_priced_as_the_estimate_prints_it(run, args: list[str]) -> None:
    res = run("estimate", "training", *args, "--json")
    assert res.code == 0, res.err
    out = res.json()
    best = out["best"]
    assert best is not None
    assert (best["instance_type"], best["count"], best["purchase"]) == (
        out["instance"]["type"], out["count"], out["purchase"])
    for key in ("p10", "p50", "p90"):
        assert best["wall_clock_hours"][key] == pytest.approx(
            out["wall_clock_by_purchase"][best["purchase"]][key], rel=1e-9)
        assert best["cost_usd"][key] == pytest.approx(out["cost_usd"][key], rel=1e-9)
