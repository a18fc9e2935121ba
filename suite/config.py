"""Configuration load order: defaults -> instance/config.py -> SUITE_* environment -> mapping.

Nothing is read at import time; `load_config(app, overrides)` is called by `create_app`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    # Database: the embedded default is a SQLite file in the instance folder (filled in below).
    "SQLALCHEMY_DATABASE_URI": None,
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "SECRET_KEY": None,
    # Session cookies: HttpOnly + SameSite always; Secure when served over HTTPS (production).
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_NAME": "shunliu_session",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_DURATION": 14 * 24 * 3600,
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    "WTF_CSRF_TIME_LIMIT": None,  # token lives as long as the session
    # i18n
    "BABEL_DEFAULT_LOCALE": "zh_CN",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "SUITE_LOCALES": ["zh_CN", "en"],
    # Modules loaded from the `modules` package, in any order (depends decides).
    "SUITE_MODULES": [
        "crm",
        "inventory",
        "purchasing",
        "orders",
        "expenses",
        "projects",
        "hr",
        "inspections",
        "stores",
    ],
    # Jobs: RQ when a Redis URL is set, inline (same process) otherwise.
    "SUITE_REDIS_URL": None,
    "SUITE_QUEUE": "suite",
    # Start the scheduler thread inside the web process (embedded default, `make run`).
    "SUITE_SCHEDULER_INPROCESS": False,
    "SUITE_SCHEDULER_INTERVAL": 15,
    # Login throttling: failures in the window per account / per client address.
    "SUITE_LOGIN_WINDOW_SECONDS": 15 * 60,
    "SUITE_LOGIN_MAX_PER_ACCOUNT": 5,
    "SUITE_LOGIN_MAX_PER_IP": 20,
    # argon2id cost (OWASP minimum is t=2, m=19 MiB; argon2-cffi defaults are higher).
    "SUITE_ARGON2_TIME_COST": 3,
    "SUITE_ARGON2_MEMORY_COST": 65536,
    "SUITE_PAGE_SIZE": 25,
    # Checklist photos: bigger uploads are refused (the QR page downscales on the phone first).
    "SUITE_CHECKLIST_PHOTO_MAX_BYTES": 8 * 1024 * 1024,
    # Outgoing mail: SMTP when a host is set, else .eml files in instance/mail/ (development).
    "SUITE_SMTP_HOST": None,
    "SUITE_SMTP_PORT": 587,  # 465 = implicit TLS
    "SUITE_SMTP_USER": None,
    "SUITE_SMTP_PASSWORD": None,
    "SUITE_SMTP_TLS": True,  # STARTTLS on ports other than 465
    "SUITE_MAIL_FROM": "Shunliu <noreply@localhost>",
    # Public address of the app, for links in e-mails and IM messages ("https://erp.example.com").
    "SUITE_BASE_URL": None,
    # Behind nginx: number of proxies whose X-Forwarded-* headers are trusted.
    "SUITE_TRUSTED_PROXIES": 0,
}

# Environment values that are not plain strings.
_INT_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, int) and not isinstance(v, bool)}
_BOOL_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, bool)}
_JSON_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, list | dict)}
_ALIASES = {
    "SUITE_DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SUITE_SECRET_KEY": "SECRET_KEY",
    "SUITE_SESSION_COOKIE_SECURE": "SESSION_COOKIE_SECURE",
}


def _coerce(key: str, raw: str) -> Any:
    if key in _BOOL_KEYS or key in {"SESSION_COOKIE_SECURE"}:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if key in _INT_KEYS:
        return int(raw)
    if key in _JSON_KEYS:
        if key == "SUITE_MODULES" and not raw.strip().startswith("["):
            return [m.strip() for m in raw.split(",") if m.strip()]
        return json.loads(raw)
    return raw


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Every `SUITE_*` variable, with the documented aliases mapped to Flask's own keys."""
    out: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith("SUITE_") or name.startswith("SUITE_TEST_"):
            continue
        key = _ALIASES.get(name, name)
        out[key] = _coerce(key, raw)
    if out.get("SESSION_COOKIE_SECURE"):
        out["REMEMBER_COOKIE_SECURE"] = True
    return out


def load_config(app: Flask, overrides: Mapping[str, Any] | None = None) -> None:
    app.config.update(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)  # instance/config.py
    app.config.update(from_environment(os.environ))
    if overrides:
        app.config.update(overrides)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        os.makedirs(app.instance_path, exist_ok=True)
        path = os.path.join(app.instance_path, "shunliu.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(app)


def _instance_secret(app: Flask) -> str:
    """A random key kept in instance/secret_key, so restarts keep sessions valid."""
    import secrets

    os.makedirs(app.instance_path, exist_ok=True)
    path = os.path.join(app.instance_path, "secret_key")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    with open(path) as fh:
        return fh.read().strip()
