"""Which Label Studio a command talks to, as a render ``Section`` (the first line of push, pull, adjudicate).

The URL shown is ``public_url`` (credentials in it are hidden); the API key never is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.render import Code, Line, Section

if TYPE_CHECKING:
    from toolkit.labelstudio.client import ServerSettings


def server(settings: ServerSettings) -> Section:
    return Section("server", None, (Line(("Label Studio: ", Code(settings.public_url), f" ({settings.origin})")),))
