"""ASGI entry point: HTTP through Django, websockets through Channels.

In embedded mode there is no Celery beat: the periodic sweep (and, in the demo, the traffic
generator) runs as tasks on this process's event loop, started by the first connection.
Daphne has no ASGI lifespan support, so the first scope is the earliest moment the loop is ours.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.config.settings")
# Read by the settings as they load: this process is the ASGI server (a pool of database
# connections, threads for the websockets' calls). Imported after the settings (as tests do),
# it changes nothing; and it is not left for child processes (a test's Celery worker) to
# inherit.
_WEB_SERVER_SET_HERE = "CONTACTCENTER_WEB_SERVER" not in os.environ
os.environ.setdefault("CONTACTCENTER_WEB_SERVER", "1")
django_asgi_app = get_asgi_application()
if _WEB_SERVER_SET_HERE:
    del os.environ["CONTACTCENTER_WEB_SERVER"]

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from channels_app.ws_urls import websocket_urlpatterns  # noqa: E402
from contactcenter.config.embedded import StartBackgroundTasks  # noqa: E402

http_app = ASGIStaticFilesHandler(django_asgi_app) if settings.SERVE_STATIC else django_asgi_app

application = StartBackgroundTasks(
    ProtocolTypeRouter(
        {
            "http": http_app,
            "websocket": AllowedHostsOriginValidator(
                AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
            ),
        }
    )
)
