"""The component catalog: complete entries, icons that exist, prices that the catalog has."""

from __future__ import annotations

import pytest

from mlscope.architecture.component_catalog import get_component_catalog
from mlscope.architecture.explain import price
from mlscope.architecture.renderers.graphviz import icon_root
from mlscope.catalog import get_catalog

KINDS = list(get_component_catalog().kinds.values())


@pytest.mark.parametrize("kind", KINDS, ids=[k.id for k in KINDS])
def test_every_kind_is_complete_and_priced_honestly(kind) -> None:
    assert kind.title and kind.does and kind.why and kind.phase
    if kind.phase != "external":
        assert kind.aws and kind.oss, kind.id
    cost = kind.cost
    assert cost.instance or cost.storage or cost.note, kind.id
    if cost.instance:
        assert get_catalog().find_instance(cost.instance, "us-east-1") is not None
        assert price(cost, "us-east-1")["priced"] is True
    else:
        assert price(cost, "ap-south-1")["priced"] is False


def test_icons_exist_in_the_installed_icon_set() -> None:
    root = icon_root()
    if root is None:
        pytest.skip("the `diagrams` package (architecture extra) is not installed")
    missing = [k.id for k in KINDS if k.icon and not (root / k.icon).is_file()]
    assert missing == []
    assert sum(1 for k in KINDS if k.icon) >= len(KINDS) - 2


def test_replace_a_component_by_removing_and_adding_its_id(make_spec) -> None:
    from mlscope.architecture import build_architecture

    spec = make_spec("recommender", 1, "architecture:\n  remove: [api]\n  add:\n"
                     "    - {id: api, kind: llm, label: \"LLM re-ranker\"}\n"
                     "  flows:\n    - {from: cache, to: api, label: candidates}\n")
    graph = build_architecture(spec)
    assert graph.components["api"].kind == "llm"
    assert [(f.source, f.label) for f in graph.flows if f.target == "api"] == [
        ("cache", "candidates")]
