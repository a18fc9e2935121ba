"""The kernel's pages: home, login, language, people admin, audit trail."""

from flask import Blueprint

bp = Blueprint("suite", __name__)

from suite.checklists import views as checklist_views
from suite.requests import views as request_views
from suite.views import (
    account,
    admin_departments,
    admin_roles,
    admin_users,
    admin_workspace,
    audit,
    delegation,
    home,
    notifications,
    tokens,
    webhooks,
)
from suite.workflow import admin as workflow_admin
from suite.workflow import views as workflow_views
