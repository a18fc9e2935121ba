"""Demo master data: the main warehouse and the items S1 and S7 use (idempotent)."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from modules.inventory.models import Item, ItemCategory, Location, Warehouse
from suite.db import db

CATEGORIES = ("Packaging", "Fertilizer", "Equipment")
ITEMS = (
    # code, name, unit, category, reorder point, standard price, stock item, barcode
    ("BOX-4030", "Packaging box 40x30", "pcs", "Packaging", "500", "2.40", True, "6901234500011"),
    ("FERT-25", "Fertilizer 25kg", "bag", "Fertilizer", "10", "180.00", True, "6901234500028"),
    ("LAPTOP-14", "Laptop 14 inch", "set", "Equipment", "0", "6000.00", False, None),
)


def seed(workspace: object) -> None:
    wh = db.session.scalar(sa.select(Warehouse).where(Warehouse.code == "WH1"))
    if wh is None:
        wh = Warehouse(code="WH1", name="主仓库")
        db.session.add(wh)
        db.session.flush()
        db.session.add(Location(warehouse_id=wh.id, code="A-01", name="A区 01 货架"))
        db.session.add(Location(warehouse_id=wh.id, code="B-01", name="B区 01 货架"))
    categories = {}
    for name in CATEGORIES:
        cat = db.session.scalar(sa.select(ItemCategory).where(ItemCategory.name == name))
        if cat is None:
            cat = ItemCategory(name=name)
            db.session.add(cat)
            db.session.flush()
        categories[name] = cat.id
    for code, name, unit, category, reorder, price, stock, barcode in ITEMS:
        if db.session.scalar(sa.select(Item.id).where(Item.code == code)):
            continue
        db.session.add(
            Item(
                code=code,
                name=name,
                unit=unit,
                category_id=categories[category],
                reorder_point=Decimal(reorder),
                standard_price=Decimal(price),
                is_stock=stock,
                barcode=barcode,
            )
        )
    db.session.flush()
