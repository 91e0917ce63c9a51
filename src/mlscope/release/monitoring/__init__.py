"""Production monitoring: data and prediction drift, service health from its own metrics."""
