"""``serve --processes N``: N server processes on one port, each with its own listening socket.

uvicorn's own ``workers`` share one socket, and whichever process wakes first accepts every
connection waiting: eight keep-alive clients that connect at once all land on one process and
the other cores idle (measured: 9.9 s of CPU on one process, 1.8 s on the other). Here each
process binds its own socket with ``SO_REUSEPORT``, and the kernel spreads new connections
over them, as nginx's ``reuseport`` does. The parent only starts the processes, forwards the
end (SIGINT, SIGTERM) and exits non-zero if one of them dies on its own.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from types import FrameType

STOP_SECONDS = 30.0  # a process's graceful shutdown before it is killed


def can_share_port() -> bool:
    """Whether this system spreads connections over sockets bound to one port: Linux (BSD
    and macOS accept SO_REUSEPORT but give every connection to one socket)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def port_is_free(host: str, port: int) -> None:
    """Raise OSError if anything listens on host:port, another ``serve`` too (a socket
    without SO_REUSEPORT cannot join their group; SO_REUSEADDR only passes TIME_WAIT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port that others with ``SO_REUSEPORT`` may bind too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets
    # that say they are TCP, and with it on, a response's body waited for the client's delayed
    # ACK of its headers: 40 ms a request
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def serve_one(host: str, port: int, parent: int) -> None:
    """One server process: its own socket, the app built from the environment; it stops
    (gracefully) when its parent is gone, killed without a chance to stop it."""
    import uvicorn

    def orphaned() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=orphaned, name="orphan-watch", daemon=True).start()
    sock = listening_socket(host, port)
    config = uvicorn.Config(
        "api.main:served_app", factory=True, host=host, port=port, log_config=None
    )
    uvicorn.Server(config).run(sockets=[sock])


def serve_processes(host: str, port: int, processes: int) -> int:
    """Run ``processes`` server processes until SIGINT or SIGTERM (exit code 0) or until one
    dies on its own (the others are stopped; exit code 1); 1 at once if the port is taken."""
    try:  # the port is free: say so now, once, not in N children
        port_is_free(host, port)
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(
            target=serve_one, args=(host, port, os.getpid()), name=f"budgetopt-server-{i}"
        )
        for i in range(processes)
    ]
    stopping = threading.Event()

    def stop(_signal: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        for child in children:
            child.start()
        while not stopping.wait(0.5):
            dead = [c for c in children if not c.is_alive()]
            if dead:
                print(
                    f"error: server process {dead[0].name} exited with code "
                    f"{dead[0].exitcode}; stopping the others",
                    file=sys.stderr,
                )
                code = 1
                break
    finally:
        started = [child for child in children if child.pid is not None]
        for child in started:
            if child.is_alive():
                child.terminate()  # SIGTERM: uvicorn finishes its requests and shuts down
        for child in started:
            child.join(STOP_SECONDS)
            if child.is_alive():
                child.kill()
                child.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code
