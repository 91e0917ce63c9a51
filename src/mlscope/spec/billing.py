"""Spec section `billing` (owned by the billing engine): where the AWS billing export is.

`mlscope billing compare/check SPEC` and the report's "actual vs plan" section read it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PrivateAttr

from mlscope.spec.base import SpecModel


class BillingTagKeys(SpecModel):
    """Resource tags that name the environment, project and component (first present wins)."""

    env: list[str] = Field(default_factory=lambda: ["env", "environment"], min_length=1)
    project: list[str] = Field(default_factory=lambda: ["project"], min_length=1)
    component: list[str] = Field(default_factory=lambda: ["component"], min_length=1)


class BillingSection(SpecModel):
    export: str | list[str] = Field(
        description="CUR 2.0, legacy CUR or FOCUS export: file, folder, glob or s3:// prefix "
                    "(relative paths are relative to this spec's folder).")
    tag_keys: BillingTagKeys = Field(default_factory=BillingTagKeys)
    # The spec file's folder, set by the loader, so relative export paths work from anywhere.
    _base_dir: Path | None = PrivateAttr(None)

    def set_source(self, spec_path: str | Path) -> None:
        path = Path(spec_path)
        self._base_dir = path if path.is_dir() else path.parent

    def exports(self) -> list[str]:
        """The export paths, relative ones resolved against the spec's folder when known."""
        raw = [self.export] if isinstance(self.export, str) else list(self.export)
        base = self._base_dir
        return [p if base is None or p.startswith("s3://") or Path(p).is_absolute()
                else str(base / p) for p in raw]
