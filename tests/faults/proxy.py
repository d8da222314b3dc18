"""A TCP proxy on loopback that a test can cut and restore, to stand for the network between a
sensor node and its broker. asyncio, in its own thread:

    proxy = TcpProxy(target_port=broker.port).start()
    url = f"mqtt://127.0.0.1:{proxy.port}"
    proxy.cut()      # open connections are reset; new ones are accepted and reset at once
    proxy.stall()    # a black hole: connections stay open, nothing gets through either way
    proxy.restore()  # traffic flows again (bytes held during a stall are delivered then)
    proxy.stop()

A stall is the nasty case of a real outage (a pulled uplink, a dead switch): neither end is told,
so only keepalives notice. Bytes a stall holds are delivered on restore, as TCP retransmission
would, unless an end gave up on the connection in the meantime.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

__all__ = ["TcpProxy"]


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy",
                                        daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._flowing: asyncio.Event | None = None
        self._cut = False
        self._writers: set[asyncio.StreamWriter] = set()

    # ------------------------------------------------------------------ control (any thread)
    def start(self) -> TcpProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(5)
        return self

    def cut(self) -> None:
        self._call(self._do_cut)

    def stall(self) -> None:
        self._call(lambda: self._flowing.clear())  # type: ignore[union-attr]

    def restore(self) -> None:
        def do() -> None:
            self._cut = False
            self._flowing.set()  # type: ignore[union-attr]

        self._call(do)

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            self._do_cut()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _call(self, action) -> None:  # type: ignore[no-untyped-def]
        async def run() -> None:
            action()

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(5)

    # ------------------------------------------------------------------ the loop's side
    async def _listen(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def _do_cut(self) -> None:
        self._cut = True
        for writer in list(self._writers):
            writer.transport.abort()  # RST, as a dropped link looks once it is noticed
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer),
                             return_exceptions=True)
        for end in (writer, up_writer):
            self._writers.discard(end)
            end.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                await self._flowing.wait()  # a stall holds the bytes here
                if writer.transport.is_closing():
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.transport.abort()
