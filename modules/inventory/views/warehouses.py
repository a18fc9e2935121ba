"""(being written)"""

from modules.inventory.blueprint import bp  # noqa: F401
