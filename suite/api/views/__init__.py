"""The API's views; each registers its routes on `suite.api.blueprint.bp` when imported."""

from suite.api.views import checklists, docs, requests, workflow

__all__ = ["checklists", "docs", "requests", "workflow"]
