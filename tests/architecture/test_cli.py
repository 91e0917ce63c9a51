"""The commands end to end: init, check, diagram, explain (through the real entry point)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlscope.catalog import get_catalog
from mlscope.spec import load_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("level", [0, 1, 2])
def test_init_writes_a_spec_that_passes_check(run, tmp_path: Path, level: int) -> None:
    res = run("init", "--use-case", "llm-rag", "--level", level, "--dir", tmp_path / "p",
              "--json")
    assert res.code == 0, res.err
    path = Path(res.json()["file"])
    spec = load_spec(path)
    assert (spec.project.use_case, spec.project.mlops_level, spec.project.name) == (
        "llm-rag", level, "p")
    checked = run("check", path, "--json")
    assert checked.code == 0, checked.out
    body = checked.json()
    assert body["ready"] is True and body["counts"]["error"] == body["counts"]["warning"] == 0


def test_init_refuses_to_overwrite(run, tmp_path: Path) -> None:
    assert run("init", "--use-case", "forecasting", "--dir", tmp_path).code == 0
    again = run("init", "--use-case", "forecasting", "--dir", tmp_path)
    assert again.code == 2 and "already exists" in again.err and "--force" in again.err
    assert run("init", "--use-case", "recommender", "--dir", tmp_path, "--force").code == 0
    assert load_spec(tmp_path / "mlscope.yaml").project.use_case == "recommender"


def test_init_unknown_use_case(run, tmp_path: Path) -> None:
    res = run("init", "--use-case", "recomender", "--dir", tmp_path)
    assert res.code == 2 and "did you mean recommender" in res.err
    assert not (tmp_path / "mlscope.yaml").exists()


def test_check_fails_in_ci_when_a_required_component_is_removed(run, write_spec) -> None:
    path = write_spec("computer-vision", 2, "architecture: {remove: [approval]}\n")
    res = run("check", path, "--json")
    assert res.code == 1
    body = res.json()
    assert body["ready"] is False
    gate = next(f for f in body["findings"] if f["rule"] == "approval-gate")
    assert gate["level"] == "error" and gate["why"] and gate["fix"]
    table = run("check", path)
    assert table.code == 1 and "approval-gate" in table.out and "not ready" in table.out


def test_check_with_warnings_only_exits_zero(run, write_spec) -> None:
    path = write_spec("recommender", 2, "architecture: {remove: [router]}\n")
    res = run("check", path, "--json")
    assert res.code == 0
    assert [f["rule"] for f in res.json()["findings"]] == ["ab-testing"]


def test_check_missing_file(run, tmp_path: Path) -> None:
    res = run("check", tmp_path / "nope.yaml")
    assert res.code == 2 and "does not exist" in res.err


@pytest.mark.parametrize("fmt", ["mermaid", "d2", "dot", "structurizr", "svg"])
def test_diagram_text_to_stdout_and_file(run, write_spec, tmp_path: Path, fmt: str) -> None:
    path = write_spec("tabular-classifier", 1, 'architecture: {rename: {api: "Risk API"}}\n')
    res = run("diagram", path, "--format", fmt)
    assert res.code == 0 and "Risk API" in res.out
    out = tmp_path / f"arch.{fmt}"
    res = run("diagram", path, "--format", fmt, "-o", out, "--json")
    assert res.code == 0 and res.json()["output"] == str(out)
    assert "Risk API" in out.read_text()


def test_diagram_png_needs_output(run, write_spec, tmp_path: Path) -> None:
    path = write_spec("forecasting", 0)
    res = run("diagram", path, "--format", "png")
    assert res.code == 2 and "-o" in res.err
    out = tmp_path / "a.png"
    assert run("diagram", path, "--format", "png", "-o", out).code == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_diagram_context_view(run, write_spec) -> None:
    path = write_spec("recommender", 2)
    full = run("diagram", path, "--format", "mermaid", "--json").json()
    ctx = run("diagram", path, "--format", "mermaid", "--view", "context", "--json").json()
    assert ctx["components"] < full["components"] and "subgraph" not in ctx["text"]


def test_diagram_of_an_empty_architecture(run, write_spec) -> None:
    res = run("diagram", write_spec("other", 1), "--format", "mermaid")
    assert res.code == 2 and "empty" in res.err


def test_diagram_without_dot(run, write_spec, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlscope.architecture.renderers import graphviz

    monkeypatch.setattr(graphviz.shutil, "which", lambda name: None)
    res = run("diagram", write_spec("forecasting", 0), "--format", "svg")
    assert res.code == 2 and "apt-get install graphviz" in res.err
    assert len(res.err.strip().splitlines()) == 1


def test_explain_prices_from_the_catalog(run) -> None:
    res = run("explain", "online_endpoint", "--json")
    assert res.code == 0
    cost = res.json()["cost"]
    inst = get_catalog().instance(cost["instance"], "us-east-1")
    assert cost["priced"] is True and cost["on_demand_usd_hr"] == inst.on_demand_usd_hr
    assert cost["always_on_usd_month"] == pytest.approx(inst.on_demand_usd_hr * 730, abs=0.01)
    assert cost["price_quality"] == inst.price_quality
    text = run("explain", "online-endpoint")
    assert text.code == 0 and "FastAPI" in text.out and "SageMaker" in text.out
    assert inst.price_quality in text.out


def test_explain_says_when_there_is_no_price(run) -> None:
    body = run("explain", "feature_store", "--json").json()
    assert body["cost"]["priced"] is False and "not in the mlscope catalog" in body["cost"]["note"]
    assert "Feast" in body["open_source"]
    text = run("explain", "feature_store").out
    assert "no catalog price" in text and "$" not in text


def test_explain_region_not_in_catalog(run) -> None:
    body = run("explain", "training", "--region", "ap-south-1", "--json").json()
    assert body["cost"]["priced"] is False and "ap-south-1" in body["cost"]["note"]


def test_explain_storage_price(run) -> None:
    cost = run("explain", "data_lake", "--json").json()["cost"]
    assert cost["priced"] is True and cost["unit"] == "GB-month" and cost["usd_per_unit"] > 0


def test_explain_errors_and_lists(run) -> None:
    res = run("explain", "fetaure_store")
    assert res.code == 2 and "did you mean feature_store" in res.err
    assert run("explain").code == 2
    kinds = run("explain", "--list", "--json").json()["kinds"]
    assert {"model_registry", "fallback", "edge_fleet"} <= {k["kind"] for k in kinds}
    bp = run("explain", "--blueprint", "recommender", "--json").json()
    assert {"api", "fallback", "registry"} <= {c["id"] for c in bp["components"]}


@pytest.mark.parametrize("name", ["recommender", "llm-pretrain", "edge-assistant"])
def test_examples_are_ready(run, name: str) -> None:
    path = EXAMPLES / name / "mlscope.yaml"
    assert run("validate", path).code == 0
    res = run("check", path, "--json")
    assert res.code == 0, res.out


def test_diagram_format_from_extension_and_folders_created(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = Path(__file__).resolve().parents[2] / "examples" / "recommender" / "mlscope.yaml"
    png = tmp_path / "new" / "dir" / "arch.png"
    assert run("diagram", str(spec), "-o", str(png)).code == 0
    assert png.read_bytes()[:4] == b"\x89PNG"  # not an SVG named .png
    mmd = tmp_path / "a.mmd"
    assert run("diagram", str(spec), "-o", str(mmd)).code == 0
    assert "flowchart LR" in mmd.read_text()
    res = run("diagram", str(spec), "-o", str(tmp_path / "a.txt"))
    assert res.code == 2 and "--format" in res.err and "Traceback" not in res.err


@pytest.mark.parametrize(("view", "marker"), [("system", "flowchart LR"),
                                              ("story", "sequenceDiagram")])
def test_diagram_sponsor_views(run, view: str, marker: str) -> None:  # type: ignore[no-untyped-def]
    spec = Path(__file__).resolve().parents[2] / "examples" / "recommender" / "mlscope.yaml"
    res = run("diagram", str(spec), "--view", view, "--format", "mermaid")
    assert res.code == 0 and marker in res.out
    assert run("diagram", str(spec), "--view", view, "--format", "svg").out.startswith("<?xml")


def test_diagram_stages_is_one_mermaid_block_per_stage(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = Path(__file__).resolve().parents[2] / "examples" / "recommender" / "mlscope.yaml"
    out = tmp_path / "stages.md"
    assert run("diagram", str(spec), "--view", "stages", "-o", str(out)).code == 0
    text = out.read_text()
    blocks = text.split("```mermaid\n")[1:]
    assert len(blocks) == 6 and all("flowchart TB" in b for b in blocks)
    assert "1. " in text  # the whole diagram's flow numbers
    res = run("diagram", str(spec), "--view", "stages", "--format", "svg")
    assert res.code == 2 and "--format mermaid" in res.err
