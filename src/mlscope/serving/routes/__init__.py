"""Routers of the serving app: each module has `register(app, ctx)`."""
