"""The ASGI application object for production servers: `helpdesk.asgi:app`."""

from helpdesk import create_app

app = create_app()
