"""A TCP relay that stands for a service point's uplink, so a test can cut and restore it.

The edge broker's bridge connects to the relay, the relay to the central broker. ``cut()``
closes every relayed connection and refuses new ones (the bridge sees the link drop, as when a
4G router loses signal); ``restore()`` lets connections through again. Only the network goes:
both brokers keep running and keep their sessions and queues.

    uplink = Uplink(central_port).start()
    ... edge bridge: address 127.0.0.1:<uplink.port>
    uplink.cut(); ...; uplink.restore(); uplink.close()
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading

from tests.support.ports import free_port

log = logging.getLogger(__name__)


class Uplink:
    def __init__(self, target_port: int, *, host: str = "127.0.0.1") -> None:
        self.target = (host, target_port)
        self.port = free_port()
        self._up = threading.Event()
        self._up.set()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._thread = threading.Thread(target=self._accept, name="uplink-accept", daemon=True)
        self.connections = 0  # how many times the bridge got through: reconnects are visible

    def start(self) -> Uplink:
        self._thread.start()
        return self

    @property
    def is_up(self) -> bool:
        return self._up.is_set()

    def cut(self) -> None:
        self._up.clear()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            for sock in (a, b):
                _close(sock)
        log.info("uplink to %s:%s cut", *self.target)

    def restore(self) -> None:
        self._up.set()
        log.info("uplink to %s:%s restored", *self.target)

    def close(self) -> None:
        self._closed.set()
        self.cut()
        _close(self._listener)
        self._thread.join(5)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._up.is_set():
                _close(client)  # a cut line: the connection attempt fails at once
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._pairs.append((client, upstream))
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True,
                             name="uplink-pump").start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        try:
            selector.register(a, selectors.EVENT_READ, b)
            selector.register(b, selectors.EVENT_READ, a)
            while True:
                for key, _ in selector.select(timeout=0.5):
                    source = key.fileobj
                    assert isinstance(source, socket.socket)
                    data = source.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
                if not self._up.is_set():
                    return
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            _close(a)
            _close(b)
            with self._lock:
                if (a, b) in self._pairs:
                    self._pairs.remove((a, b))


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
