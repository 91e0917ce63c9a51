"""What the app hands each router: the model holder, the metrics, the model's name, the routes.

Its own module so routers import it without importing the app (which imports the routers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI

from mlscope.serving.holder import ModelHolder
from mlscope.serving.metrics import ServingMetrics


@dataclass
class ServingContext:
    holder: ModelHolder
    metrics: ServingMetrics
    model_name: str
    routes: set[str]  # every path a router serves (bounded metric labels)


Router = Callable[[FastAPI, ServingContext], None]
