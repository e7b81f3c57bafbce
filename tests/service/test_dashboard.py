"""The dashboard end to end in headless Chromium (Debian's chromium through
Playwright): it loads with no request leaving the service, draws the route corridors
and trucks, the lanes per hour and the indicators, streams alerts, and acknowledges one.

Needs ``/usr/bin/chromium`` (``PORTWATCH_CHROMIUM`` to override); without it the test
skips, and under ``CI=true`` a missing browser fails it. ``PORTWATCH_SCREENSHOT=PATH``
keeps the screenshot (docs/dashboard.png is made that way).
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from tests.service.conftest import PORT, policy_doc, trip
from tests.service.serverproc import free_port, start

from portwatch.custody.registry import shipment_from_mapping
from portwatch.custody.service import CustodyService
from portwatch.custody.tripgen import Attack
from portwatch.service.auth import create_token
from portwatch.store.database import Database

CHROMIUM = os.environ.get("PORTWATCH_CHROMIUM", "/usr/bin/chromium")


def _browser_or_skip() -> None:
    problem = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = "playwright is not installed"
    if problem is None and not Path(CHROMIUM).exists():
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the dashboard test needs a browser under CI=true: {problem}")
        pytest.skip(problem)


def _seed(tmp_path: Path) -> tuple[str, dict[str, str]]:
    db_path = str(tmp_path / "dash.db")
    db = Database(db_path)
    svc = CustodyService(db)
    # three trucks in transit (their last messages held back), one of them diverted
    for k, attack in enumerate((Attack.NONE, Attack.DIVERSION, Attack.NONE, Attack.FORGERY)):
        t = trip(k, attack)
        svc.register(shipment_from_mapping(t.shipment))
        svc.ingest(t.lines[: len(t.lines) * (k + 2) // 6])
    tokens = {r: create_token(db, r, f"dash-{r}", port_code=PORT if r == "officer" else None)
              .token for r in ("admin", "officer")}
    db.close()
    return db_path, tokens


def test_dashboard_in_headless_chromium(tmp_path: Path) -> None:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    db_path, tokens = _seed(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(db_path, port, tmp_path / "serve.log")
    try:
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        officer = {"Authorization": f"Bearer {tokens['officer']}"}
        v = httpx.post(f"{base}/v1/policies", json=policy_doc(0.2), headers=admin).json()
        httpx.post(f"{base}/v1/policies/{v['version']}/activate", headers=admin)
        for i in range(40):
            httpx.post(f"{base}/v1/arrivals", headers=officer, json={
                "mode": "truck", "plate": f"P{i}", "port_code": PORT,
                "lane": "express" if i % 3 == 0 else "general"})
        outside: list[str] = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: None if r.url.startswith(base) else
                    outside.append(r.url))
            page.goto(f"{base}/dashboard")
            page.fill("#token", tokens["officer"])
            page.click("#connect")
            page.wait_for_selector("#alerts tr", timeout=30_000)
            page.wait_for_selector("#map circle.truck", timeout=30_000)
            # the statistics (chart, counters) load beside the map, not before it
            page.wait_for_selector("#chart rect.bar", timeout=30_000)
            assert page.locator("#map path.route").count() >= 1
            assert page.locator("#chart rect.bar").count() >= 4
            assert page.inner_text("#k-decisions") == "40"
            assert page.locator("#map circle.truck[data-verdict=broken]").count() >= 1
            kinds = page.locator("#alerts tr td:first-child").all_inner_texts()
            assert "bad_signature" in kinds or "off_corridor" in kinds
            # acknowledge the first alert through the page
            page.once("dialog", lambda d: d.accept("unit dispatched"))
            first = page.locator("#alerts tr").first
            alert_id = first.get_attribute("data-alert-id")
            first.locator("button.ack").click()
            page.wait_for_selector(f"#alerts tr.acked[data-alert-id='{alert_id}']")
            shot = Path(os.environ.get("PORTWATCH_SCREENSHOT", str(tmp_path / "dash.png")))
            page.screenshot(path=str(shot), full_page=True)
            browser.close()
        assert outside == []
        acked = httpx.get(f"{base}/v1/alerts?acked=true", headers=officer).json()
        assert [a["alert_id"] for a in acked] == [alert_id]
        assert acked[0]["ack_comment"] == "unit dispatched"
    finally:
        proc.kill()
        proc.wait()
