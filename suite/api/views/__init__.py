"""The API's views; each registers its routes on `suite.api.blueprint.bp` when imported."""

from suite.api.views import docs, requests, workflow

__all__ = ["docs", "requests", "workflow"]
