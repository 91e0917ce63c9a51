"""The project spec (`mlscope.yaml`): pydantic models, loading with locations, JSON Schema."""

from mlscope.spec.loader import load_spec, load_spec_text, validate_file
from mlscope.spec.models import ProjectSpec, json_schema

__all__ = ["ProjectSpec", "json_schema", "load_spec", "load_spec_text", "validate_file"]
