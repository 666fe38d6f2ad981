"""A minimal SCIM 2.0 server built on django-scim2 (15five), the way its README describes: the `django_scim` app and
its URLs mounted under /scim/v2/, a user and a group model with the library's SCIM mixins (peer/models.py), the
library's own adapters, filter parsers and views unchanged. It is a peer for scimcheck's CI: what it gets wrong
should be django-scim2's behaviour, not this file's, so this file only does what the library leaves to the
integrator:
  - authentication (the library does none): a bearer token, checked by a middleware that marks the request's user
    as authenticated, which the library's own SCIMAuthCheckMiddleware then accepts;
  - storage: SQLite in a temporary folder, tables created at start (the library documents Postgres; SQLite's
    transactions start IMMEDIATE, so concurrent requests wait for each other instead of failing "database is
    locked" when a PATCH's transaction upgrades its read lock);
  - the ServiceProviderConfig, which the library asks integrators to override "to describe those features that are
    implemented by your app": filtering is declared supported because the library's views answer `filter`
    (its reference config declares it unsupported); everything else is the library's default.

Usage: python server.py TOKEN   → prints "SCIM base URI: http://127.0.0.1:PORT/scim/v2" once listening.
"""
import os
import shutil
import signal
import socketserver
import sys
import tempfile
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django
from django.conf import settings

HERE = os.path.dirname(os.path.abspath(__file__))


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main():
    if len(sys.argv) != 2:
        print("usage: python server.py TOKEN", file=sys.stderr)
        return 2
    sys.path.insert(0, HERE)
    # Bind first (port 0: the OS chooses), since the library builds meta.location from a configured NETLOC.
    httpd = make_server("127.0.0.1", 0, None, server_class=ThreadingServer, handler_class=QuietHandler)
    port = httpd.server_address[1]
    db_dir = tempfile.mkdtemp(prefix="django-scim2-peer-")
    settings.configure(
        DEBUG=False,
        SECRET_KEY="peer-only",
        PEER_TOKEN=sys.argv[1],
        ALLOWED_HOSTS=["127.0.0.1"],
        ROOT_URLCONF="urls",
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django_scim", "peer"],
        MIDDLEWARE=["peer.hooks.bearer_middleware"],
        AUTH_USER_MODEL="peer.User",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(db_dir, "scim.sqlite3"),
                               "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"}}},
        USE_TZ=True,
        SCIM_SERVICE_PROVIDER={
            "NETLOC": f"127.0.0.1:{port}",
            "SCHEME": "http",
            "AUTHENTICATION_SCHEMES": [{"type": "oauthbearertoken", "name": "OAuth Bearer Token",
                                        "description": "Authentication with a bearer token"}],
            "GROUP_MODEL": "peer.models.Group",
            "SERVICE_PROVIDER_CONFIG_MODEL": "peer.hooks.ServiceProviderConfig",
        },
    )
    django.setup()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", run_syncdb=True, verbosity=0)
    httpd.set_app(get_wsgi_application())
    print(f"SCIM base URI: http://127.0.0.1:{port}/scim/v2", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        httpd.serve_forever()
    finally:
        shutil.rmtree(db_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
