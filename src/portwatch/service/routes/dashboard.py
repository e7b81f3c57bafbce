"""``GET /dashboard``: the operations dashboard, a static page with no external
resources; it asks for a token and reads the API with it."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

router = APIRouter(tags=["dashboard"], include_in_schema=False)
_STATIC = files("portwatch.service") / "static"


@router.get("/dashboard", response_class=HTMLResponse)
def page() -> HTMLResponse:
    return HTMLResponse((_STATIC / "dashboard.html").read_text(encoding="utf-8"),
                        headers={"Content-Security-Policy": "default-src 'self'; "
                                 "style-src 'self' 'unsafe-inline'; img-src 'self' data:"})


@router.get("/dashboard/app.js")
def script() -> Response:
    return Response((_STATIC / "dashboard.js").read_text(encoding="utf-8"),
                    media_type="text/javascript")
