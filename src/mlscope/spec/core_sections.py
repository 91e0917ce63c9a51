"""Spec sections owned by the estimator: project, dataset, model, training."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from mlscope.spec.base import Hours, Quantity, SpecModel

UseCase = Literal[
    "recommender", "tabular-classifier", "forecasting", "llm-rag", "edge-voice-assistant",
    "computer-vision", "llm-pretrain", "other",
]


class ProjectSection(SpecModel):
    name: str = Field(min_length=1, description="Short project name.")
    description: str = ""
    use_case: UseCase = "other"
    owner: str | None = Field(None, description="Accountable person or team (e-mail).")
    region: str = Field("us-east-1", description="Default AWS region.")
    mlops_level: Literal[0, 1, 2] = Field(1, description="0 manual, 1 CT, 2 CI/CD + CT.")


class DatasetSection(SpecModel):
    path: str | None = Field(None, description="Local file or folder to measure.")
    tokens: Quantity | None = Field(None, gt=0, description="Training tokens per epoch.")
    samples: Quantity | None = Field(None, gt=0, description="Rows / examples per epoch.")
    bytes: Quantity | None = Field(None, gt=0)
    epochs: float = Field(1.0, gt=0)
    bytes_per_token: float | None = Field(None, gt=0, description="Used when no tokenizer.")
    # Recommender-shaped data (user-item interactions).
    users: Quantity | None = Field(None, gt=0)
    items: Quantity | None = Field(None, gt=0)
    interactions: Quantity | None = Field(None, gt=0)
    growth_per_month: float = Field(0.0, ge=0, description="Fractional growth per month.")


class ModelSection(SpecModel):
    kind: Literal["transformer", "als", "other"] = "transformer"
    name: str | None = Field(None, description="A model from the zoo, e.g. llama-2-7b.")
    params: Quantity | None = Field(None, gt=0)
    active_params: Quantity | None = Field(None, gt=0, description="MoE: params per token.")
    layers: int | None = Field(None, gt=0)
    hidden: int | None = Field(None, gt=0)
    heads: int | None = Field(None, gt=0)
    kv_heads: int | None = Field(None, gt=0)
    vocab: int | None = Field(None, gt=0)
    context: int | None = Field(None, gt=0)
    factors: int | None = Field(None, gt=0, description="ALS: latent factors.")
    iterations: int | None = Field(None, gt=0, description="ALS: sweeps over the data.")
    finetune: Literal["none", "full", "lora", "lora-8bit", "qlora"] = "none"
    lora_rank: int = Field(16, gt=0)


class TrainingSection(SpecModel):
    accelerator: str | None = Field(None, description="Accelerator or instance type.")
    count: int | None = Field(None, gt=0)
    instance: str | None = Field(None, description="CPU instance for non-accelerated jobs.")
    precision: Literal["bf16", "fp16", "fp8", "fp32", "tf32"] = "bf16"
    zero_stage: Literal[0, 1, 2, 3] = 0
    micro_batch: int = Field(1, gt=0)
    seq_len: int | None = Field(None, gt=0)
    recompute: Literal["none", "selective", "full"] = "none"
    flash_attention: bool = True
    software_era: Literal["modern", "pre-2023"] = Field(
        "modern", description="Training stack the utilization assumes (pre-2023: older kernels).")
    deadline: Hours | None = Field(None, gt=0)
    budget_usd: float | None = Field(None, gt=0)
    purchase: Literal["on-demand", "spot", "savings-1y", "savings-3y"] = "on-demand"
    region: str | None = None
    runs_per_month: float = Field(1.0, ge=0, description="Retraining runs per month.")
    command: str | None = Field(None, description="Training command for `mlscope calibrate`.")

    @model_validator(mode="after")
    def _count_needs_hardware(self) -> TrainingSection:
        if self.count is not None and not (self.accelerator or self.instance):
            raise ValueError("count is set but no accelerator or instance is named")
        return self
