"""Inventory business operations: material issues, transfers, stocktakes, low-stock alerts.

Services take and return domain objects, raise `DomainError` (with the form field it belongs to)
and never touch the request. Stock only changes through `modules.inventory.stock.post`.
"""
