"""Starting `invoicing` servers for the benchmarks, on 127.0.0.1, and stopping them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

INVOICING = str(Path(sys.executable).with_name("invoicing"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def invoicing(
    *args: str, env: dict[str, str] | None = None, ready: str = "/healthz"
) -> Iterator[str]:
    """Run `invoicing ARGS --port P` until the block ends; yields its base URL once `ready`
    answers 200."""
    with invoicing_process(*args, env=env, ready=ready) as (base, _):
        yield base


def rss_mb(pid: int) -> float:
    """A process's resident memory now, in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def invoicing_process(
    *args: str, env: dict[str, str] | None = None, ready: str = "/healthz"
) -> Iterator[tuple[str, int]]:
    """Like `invoicing`, yielding the server's process id beside its base URL."""
    with server_process([INVOICING, *args], env=env, ready=ready) as started:
        yield started


@contextmanager
def server_process(
    command: list[str], env: dict[str, str] | None = None, ready: str = "/healthz"
) -> Iterator[tuple[str, int]]:
    """Run `COMMAND --port P` until the block ends; yields its base URL and process id once
    `ready` answers 200."""
    port = free_port()
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + ready, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"`{' '.join(command)}` did not start")
            time.sleep(0.1)
        yield base, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
