"""--serve: textual-serve's Server, with the page's addresses taken from the browser's request.

textual-serve writes one `public_url` into the page it serves (the websocket address and the
static files): by default `http://<host>:<port>`, so `--host 0.0.0.0` gave a page that told the
browser to connect to `ws://0.0.0.0:8000/ws`, which no other machine can reach. Here each page
uses the address the browser itself asked for (its Host header, checked to be a plain host and
port), unless a public URL was given explicitly (as behind a proxy). This module is imported
only with --serve (textual-serve is the optional `web` extra).
"""

from __future__ import annotations

import re
from typing import Any

from textual_serve.server import Server

# A host name, an IPv4 address or a bracketed IPv6 address, and an optional port: nothing that
# could end the HTML attribute the address is written into.
HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")


class BrowserAddressServer(Server):
    """A Server whose pages point the browser back at the address it used."""

    def __init__(self, *args: Any, public_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, public_url=public_url, **kwargs)
        self.fixed_public_url = public_url is not None

    def url_for(self, request: Any) -> str:
        """The public URL for a page answering `request`."""
        if self.fixed_public_url or not HOST.match(request.host or ""):
            return self.public_url
        return f"{request.scheme}://{request.host}"

    async def handle_index(self, request: Any) -> Any:
        # The base class builds the page from self.public_url, with no await before it has
        # read it: swapping it in for this request cannot leak into another one.
        configured = self.public_url
        self.public_url = self.url_for(request)
        try:
            return await super().handle_index(request)
        finally:
            self.public_url = configured
