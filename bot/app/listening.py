"""The HTTP socket, taken before any other work so that a busy port stops start-up at once."""

from __future__ import annotations

import errno
import socket

from bot.app.settings import ConfigError

LISTEN_BACKLOG = 2048  # uvicorn's default


def listen(port: int, host: str = "0.0.0.0") -> socket.socket:
    """A listening socket on `host:port`, or the one sentence on why there is none."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        # Connections that arrive while the app starts wait in the backlog, not refused.
        listener.listen(LISTEN_BACKLOG)
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} is already in use: stop the other process or set PORT to a free port."
            ) from None
        raise ConfigError(
            f"cannot listen on port {port} ({exc.strerror}): set PORT to a port this user may use."
        ) from None
    return listener
