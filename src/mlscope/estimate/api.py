"""Library entry points used by the CLI, the report and the cost engine."""

from __future__ import annotations

from typing import Any

from mlscope.errors import InputError
from mlscope.estimate.als import estimate_als, search_als
from mlscope.estimate.recommend import search
from mlscope.estimate.shapes import resolve_shape
from mlscope.estimate.training import TrainingSetup, estimate_training
from mlscope.spec import ProjectSpec


def setup_from_spec(spec: ProjectSpec) -> TrainingSetup:
    m, d, t = spec.model, spec.dataset, spec.training
    shape = resolve_shape(model=m.name, params=m.params, active_params=m.active_params,
                          layers=m.layers, hidden=m.hidden, heads=m.heads, kv_heads=m.kv_heads,
                          vocab=m.vocab, context=m.context)
    tokens = d.tokens
    if tokens is None and d.path:
        tokens = measure_dataset_tokens(d.path, d.bytes_per_token)["tokens"]
    if tokens is None:
        raise InputError("the spec has no dataset size for a transformer",
                         "set dataset.tokens (e.g. 2T) or dataset.path to measure it")
    return TrainingSetup(shape=shape, tokens=tokens * d.epochs, precision=t.precision,
                         zero_stage=t.zero_stage if t.zero_stage else None,
                         # The spec's default "none" leaves the choice to the planner.
                         micro_batch=t.micro_batch, seq_len=t.seq_len,
                         recompute=None if t.recompute == "none" else t.recompute,
                         flash_attention=t.flash_attention, finetune=m.finetune,
                         lora_rank=m.lora_rank, software_era=t.software_era)


def measure_dataset_tokens(path: str, bytes_per_token: float | None = None) -> dict[str, Any]:
    """Token count of a local dataset, measured by the dataset engine (tokenizer or bytes)."""
    from mlscope.datasets import measure_tokens  # the dataset engine; imported when needed

    kwargs: dict[str, Any] = {}
    if bytes_per_token:
        kwargs["bytes_per_token"] = bytes_per_token
    result: dict[str, Any] = measure_tokens(path, **kwargs).to_dict()
    return result


def estimate_spec(spec: ProjectSpec) -> dict[str, Any]:
    """The estimate of one training run described by a spec (same JSON as the CLI)."""
    t = spec.training
    region = t.region or spec.project.region
    if spec.model.kind == "als":
        d, m = spec.dataset, spec.model
        if not t.instance:
            raise InputError("an ALS model trains on CPU instances but training.instance is "
                             "not set", "set training.instance, e.g. m6i.8xlarge")
        est = estimate_als(d.users or 0, d.items or 0, d.interactions or 0, m.factors or 64,
                           m.iterations or 15, t.instance, region, t.purchase)
        out = est.to_dict()
        out["runs_per_month"] = t.runs_per_month
        if t.deadline is not None:
            out["deadline_hours"] = t.deadline
            out["meets_deadline"] = est.wall_clock_hours.p90 <= t.deadline
        als_rec = search_als(d.users or 0, d.items or 0, d.interactions or 0, m.factors or 64,
                             m.iterations or 15, region, t.deadline, t.budget_usd).to_dict()
        out.update({"search": als_rec, "options": als_rec["options"], "best": als_rec["best"]})
        return out
    if spec.model.kind != "transformer":
        raise InputError(f"no analytic estimator for model.kind '{spec.model.kind}'",
                         "measure it with `mlscope calibrate -- <training command>`")
    setup = setup_from_spec(spec)
    hardware = t.accelerator or t.instance
    searching = t.deadline is not None or t.budget_usd is not None or not hardware
    out = {}
    if hardware and (t.count is not None or not searching):
        out = estimate_training(setup, hardware, t.count, region, t.purchase).to_dict()
    if searching:
        from mlscope.catalog import get_catalog

        named = get_catalog().find_accelerator(hardware) if hardware else None
        rec = search(setup, t.deadline, t.budget_usd, regions=[region],
                     accelerators=[hardware] if hardware and named and t.count is None
                     else None,
                     instance_types=[hardware] if hardware and not named and t.count is None
                     else None)
        out.update({"search": rec.to_dict(), "options": rec.to_dict()["options"],
                    "best": rec.to_dict()["best"]})
        if not out.get("method") and rec.best is not None:
            chosen = estimate_training(setup, rec.best.instance.instance_type, rec.best.count,
                                       region, rec.best.purchase).to_dict()
            chosen["count_source"] = "search"
            out = {**chosen, **out}
    out["runs_per_month"] = t.runs_per_month
    return out


def training_run_cost(spec: ProjectSpec) -> dict[str, float] | None:
    """{p10, p50, p90} USD of one training run, or None when the estimate has no dollars.

    Errors (a configuration that does not fit, an unknown accelerator...) are raised with
    their reason, never swallowed: a run that cannot be estimated must not be costed.
    """
    result = estimate_spec(spec)
    cost = result.get("cost_usd")
    return dict(cost) if cost else None
