"""The browser client, at the gateway: HTTP for the page and WebSocket for play (mud/web)."""

from mud.edge.web.server import WebListener

__all__ = ["WebListener"]
