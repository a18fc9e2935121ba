"""The reference page for `bench/web.py`: bare Flask + Flask-SQLAlchemy + Jinja, no login.

It selects the 20 newest rows of `purchase_order` and renders them as an HTML table: the limit of
the stack on this machine (ARCHITECTURE 9: a logged-in page must reach >= 50 % of its throughput).

    BENCH_DATABASE_URL=postgresql+psycopg://... gunicorn -w 2 'bench.bare_app:create_app()'
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import sqlalchemy as sa
from flask import Flask, render_template_string
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Purchase orders</title></head>
<body><main><h1>Purchase orders</h1>
<table>
<thead><tr><th>Number</th><th>Status</th><th>Supplier</th><th>Amount</th><th>Expected</th>
<th>Created</th></tr></thead>
<tbody>
{% for o in orders %}<tr><td><a href="/orders/{{ o.id }}">{{ o.number }}</a></td>
<td>{{ o.status }}</td><td>{{ o.supplier_id }}</td><td>{{ o.amount_total }}</td>
<td>{{ o.expected_on or "" }}</td><td>{{ o.created_at.strftime("%Y-%m-%d %H:%M") }}</td></tr>
{% endfor %}</tbody>
</table></main></body></html>
"""


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class PurchaseOrder(db.Model):
    """The columns of `purchase_order` the page shows (the table comes from the app's migrations)."""

    __tablename__ = "purchase_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20))
    supplier_id: Mapped[int]
    amount_total: Mapped[Decimal] = mapped_column(
        sa.Numeric(14, 2).with_variant(sa.String(40), "sqlite")  # the suite stores text there
    )
    expected_on: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime]


def create_app(database_url: str | None = None) -> Flask:
    """The bare app on `database_url` (default: the BENCH_DATABASE_URL environment variable)."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url or os.environ["BENCH_DATABASE_URL"]
    db.init_app(app)

    @app.route("/")
    def orders() -> str:
        rows = db.session.scalars(
            sa.select(PurchaseOrder).order_by(PurchaseOrder.id.desc()).limit(20)
        ).all()
        return render_template_string(PAGE, orders=rows)

    return app
