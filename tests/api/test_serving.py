"""The sockets of ``serve --processes N``: shared by port, and without Nagle's delay."""

from __future__ import annotations

import asyncio
import socket

import pytest

from api.serving import can_share_port, listening_socket

pytestmark = pytest.mark.skipif(not can_share_port(), reason="SO_REUSEPORT is Linux/BSD only")


def test_two_processes_can_bind_the_same_port():
    first = listening_socket("127.0.0.1", 0)
    try:
        port = first.getsockname()[1]
        second = listening_socket("127.0.0.1", port)  # would raise EADDRINUSE without the option
        second.close()
    finally:
        first.close()


def test_a_busy_port_is_refused():
    plain = socket.socket()
    plain.bind(("127.0.0.1", 0))
    plain.listen()
    try:
        with pytest.raises(OSError):
            listening_socket("127.0.0.1", plain.getsockname()[1])
    finally:
        plain.close()


def test_accepted_connections_send_at_once():
    # with Nagle's algorithm on, a response's body waits for the ACK of its headers (40 ms)
    async def accepted_nodelay() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def on_connect(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        sock = listening_socket("127.0.0.1", 0)
        server = await asyncio.start_server(on_connect, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            value = await asyncio.wait_for(seen, 10)
            writer.close()
        return value

    assert asyncio.run(accepted_nodelay()) != 0


def test_another_server_on_the_port_is_seen():
    from api.serving import port_is_free

    other = listening_socket("127.0.0.1", 0)  # a running serve --processes N holds one
    other.listen()
    try:
        with pytest.raises(OSError):
            port_is_free("127.0.0.1", other.getsockname()[1])
    finally:
        other.close()
