"""(being written)"""

from modules.crm.blueprint import bp  # noqa: F401
