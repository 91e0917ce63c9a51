"""The prediction service: a FastAPI app serving the model version an alias (or pointer) holds.

Submodules import FastAPI and prometheus-client, so import them only where serving is used.
"""
