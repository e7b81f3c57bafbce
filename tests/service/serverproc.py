"""Run ``portwatch serve`` in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

SRC = str(Path(__file__).resolve().parents[2] / "src")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(db: str, port: int, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    handle = log.open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "portwatch", "serve", "--db", db, "--port", str(port),
         "--host", "127.0.0.1", *extra],
        stdout=handle, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/v1/health"
    for _ in range(600):  # up to 60 s for the interpreter and numba to load
        if proc.poll() is not None:
            raise RuntimeError(f"portwatch serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("portwatch serve did not answer /v1/health")


__all__ = ["free_port", "start"]
