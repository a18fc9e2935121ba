"""Extension objects, bound to an app in `create_app` (never at import time)."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect
from htmx_flask import Htmx

from suite.db import db

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
htmx = Htmx()
migrate = Migrate()

__all__ = ["babel", "csrf", "db", "htmx", "login_manager", "migrate"]
