"""A scratch PostgreSQL database for a benchmark: named after DATABASE_URL's, created fresh,
dropped at the end (also on error or Ctrl-C). Import and enter before `django.setup()`."""

import base64
import contextlib
import os
import secrets
import sys
import urllib.parse


def deployment_settings() -> None:
    """Run as a deployment does: DJANGO_DEBUG=false (with DEBUG on, Django keeps a log entry of
    every SQL statement). The secrets that then must be given are made up for this run only,
    unless the environment has them. Call before `django.setup()`; worker processes started
    afterwards inherit the same environment."""
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("ID_NUMBER_KEYS", "bench:" + base64.b64encode(secrets.token_bytes(32)).decode())
    os.environ.setdefault("ID_NUMBER_INDEX_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    os.environ.setdefault("SIGNING_PKCS12_PASSWORD", secrets.token_urlsafe(24))


def _admin_execute(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql)


@contextlib.contextmanager
def scratch_database(suffix: str):
    """Point DATABASE_URL at `<db>_bench_<suffix>` for the duration; yields its name."""
    url = os.environ.get("DATABASE_URL", "")
    parsed = urllib.parse.urlsplit(url)
    if not parsed.scheme.startswith("postgres"):
        sys.exit(f"this benchmark needs DATABASE_URL pointing at PostgreSQL (got {url or 'nothing'})")
    name = f"{parsed.path.lstrip('/')}_bench_{suffix}"
    admin_url = urllib.parse.urlunsplit(parsed._replace(path="/postgres"))
    _admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin_execute(admin_url, f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urllib.parse.urlunsplit(parsed._replace(path="/" + name))
    try:
        yield name
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        _admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        os.environ["DATABASE_URL"] = url
        print(f"dropped {name}", file=sys.stderr)  # stdout ends with the figures
