"""The OpenAPI document, and a plain page listing the endpoints (no third-party assets)."""

from __future__ import annotations

from flask import current_app, jsonify, render_template
from werkzeug.wrappers import Response

from suite.api import spec
from suite.api.blueprint import bp, public

METHODS = ("get", "post", "put", "patch", "delete")


@bp.route("/openapi.json")
@public
def openapi() -> Response:
    """The OpenAPI 3 document of this API.
    ---
    get:
      tags: [meta]
      responses:
        200:
          description: The OpenAPI document (this one).
          content:
            application/json:
              schema: {type: object}
    """
    resp = jsonify(spec.document(current_app))
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


def docs_page() -> str:
    """`/api/docs`: every operation of the document with its summary and link to the JSON."""
    document = spec.document(current_app)
    operations = sorted(
        (
            (method.upper(), path, op)
            for path, item in document["paths"].items()
            for method, op in item.items()
            if method in METHODS
        ),
        key=lambda row: (row[1], METHODS.index(row[0].lower())),
    )
    return render_template("account/api_docs.html", document=document, operations=operations)
