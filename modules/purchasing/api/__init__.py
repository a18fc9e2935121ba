"""Purchase-to-pay in the JSON API (Manifest.api): read requests, orders, receipts, supplier
invoices and payment requests with their lines; create and submit purchase requests.

Importing the package registers the routes on the kernel's API blueprint; `SCHEMAS` joins the
OpenAPI document.
"""

from modules.purchasing.api import documents, requests
from modules.purchasing.api.schemas import SCHEMAS

__all__ = ["SCHEMAS", "documents", "requests"]
