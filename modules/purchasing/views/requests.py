"""(being written)"""

from modules.purchasing.blueprint import bp  # noqa: F401
