"""The kernel's pages: home, login, language, people admin, audit trail."""

from flask import Blueprint

bp = Blueprint("suite", __name__)

from suite.views import (
    account,
    admin_departments,
    admin_roles,
    admin_users,
    admin_workspace,
    audit,
    home,
)
