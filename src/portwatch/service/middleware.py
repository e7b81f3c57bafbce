"""ASGI middleware: request body limits, and request counts and latencies.

The body limit reads the whole body before the route sees it (so a chunked upload
without ``Content-Length`` is held to the same limit) and answers 413 past it. Uploads
(telemetry batches, inspections with a spectrum) get the larger limit.
"""

from __future__ import annotations

import json
import time
from typing import Any

from portwatch.service.metrics import Metrics

Scope = dict[str, Any]
UPLOAD_PATHS = ("/v1/telemetry", "/v1/inspections")


async def _reply(send: Any, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: Any, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.max_upload = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.max_upload if scope["path"] in UPLOAD_PATHS else self.max_body
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _reply(send, 400, "Content-Length: not a number")
                    return
                if declared > limit:
                    await _reply(send, 413, f"body: {declared} bytes, the limit is {limit}")
                    return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _reply(send, 413, f"body: over the limit of {limit} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class RequestMetrics:
    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            # the route's template, never the raw path: ids must not become labels
            name = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(scope["method"], name, str(status)).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - start)


__all__ = ["BodyLimit", "RequestMetrics", "UPLOAD_PATHS"]
