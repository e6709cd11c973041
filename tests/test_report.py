"""`distillery report`: one self-contained HTML page, checked as text and in headless Chromium."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import build_run, run_cli
from curate import report
from curate.errors import BadInput

CHARTS = {"funnel", "drop-reasons", "length-before", "length-after", "verdicts", "domains",
          "dup-sizes", "seconds"}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return build_run(tmp_path_factory.mktemp("report"))


def charts_in(html: str) -> set[str]:
    return set(re.findall(r'<svg class="chart" data-chart="([^"]+)"', html))


def test_report_has_every_section_and_loads_nothing(run_dir, tmp_path, capsys):
    out = tmp_path / "r.html"
    code, printed, err = run_cli(["report", run_dir, "--out", out], capsys)
    assert code == 0, err
    html = out.read_text()
    assert charts_in(html) == CHARTS
    for text in ("Funnel", "Thinking length", "Verdicts", "Domain mix", "Duplicate clusters",
                 "Benchmark contamination", "Seconds per stage", "aime24/3", "thinking too short",
                 "dropped by 02-format: truncated (finish_reason = length)", "<details>"):
        assert text in html, text
    # Cut-off traces counted by the format stage's rules (the truncated query): the fixture's row cut
    # at the length limit and its row with a stray think tag, neither kept.
    assert ("2 of 12 traces (16.7%) are cut off: 1 hit the length limit, 2 have thinking that never "
            "closed; 0 have no thinking and 1 no final answer. Kept after curation: 0 of these.") in html
    # Self-contained: no scripts, and nothing fetched from anywhere.
    assert "<script" not in html and not re.search(r'(src|href)="(https?:)?//', html)


def test_report_without_later_stages_says_what_is_absent(tmp_path):
    html = report.build(build_run(tmp_path, extras=False))
    assert "no <code>verdict</code> column, which the verify stage adds" in html
    assert "no <code>domain</code> column" in html and "no <code>contaminated_with</code> column" in html
    assert {"funnel", "length-before", "length-after", "seconds"} <= charts_in(html)
    assert "verdicts" not in charts_in(html) and "domains" not in charts_in(html)


def test_report_default_path_and_bad_input(run_dir, tmp_path, capsys):
    assert report.write(run_dir) == run_dir / "report.html"
    with pytest.raises(BadInput, match="needs a run folder"):
        report.build(run_dir.parent / "traces")
    code, _, err = run_cli(["report", tmp_path / "nothing"], capsys)
    assert code == 2 and err.count("\n") == 1


# ---------------------------------------------------------------------------------------- browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-pipe", "--window-size=1100,900"]


class DevTools:
    """Chromium driven over the DevTools protocol on a pipe (fds 3 and 4): no driver binary, no
    websocket library, and every console message and uncaught exception arrives as an event."""

    def __init__(self, profile: Path):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def chrome_fds():  # in the child: Chromium reads commands on fd 3, writes to fd 4
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_chrome_r, from_chrome_w)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=chrome_fds)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        reply = self._read_until(lambda m: m.get("id") == self._next_id, timeout)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait_event(self, method: str, timeout: float = 30) -> dict:
        for event in self.events:
            if event.get("method") == method:
                return event
        return self._read_until(lambda m: m.get("method") == method, timeout)

    def _read_until(self, done, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "method" in message:
                    self.events.append(message)
                if done(message):
                    return message
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


def open_page(url: str, profile: Path, screenshot: Path | None = None) -> tuple[list[str], list]:
    """Load `url`; return its console errors and uncaught exceptions, and each chart's
    (name, width, height) as laid out; save a full-page screenshot when asked."""
    chrome = DevTools(profile)
    try:
        # A page of our own: the startup tab may not exist yet when the first command arrives.
        target = chrome.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = chrome.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            chrome.send(f"{domain}.enable", session=session)
        chrome.send("Page.navigate", {"url": url}, session=session)
        chrome.wait_event("Page.loadEventFired")
        chart_js = ("JSON.stringify([...document.querySelectorAll('svg.chart')].map(s => "
                    "[s.dataset.chart, s.getBoundingClientRect().width, s.getBoundingClientRect().height]))")
        found = json.loads(chrome.send("Runtime.evaluate", {"expression": chart_js, "returnByValue": True},
                                       session=session)["result"]["value"])
        if screenshot is not None:
            shot = chrome.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                               session=session)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        errors = []
        for event in chrome.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                errors.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                errors.append(params["entry"]["text"])
        return errors, found
    finally:
        chrome.close()


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                                    "(apt-get install chromium; .ci/run does it)")


@needs_chromium
def test_report_in_headless_chromium(run_dir, tmp_path):
    page = report.write(run_dir, tmp_path / "report.html")
    shot = tmp_path / "report.png"
    errors, found = open_page(page.resolve().as_uri(), tmp_path / "profile", screenshot=shot)
    assert errors == []
    assert {name for name, _, _ in found} == CHARTS
    assert all(w > 100 and h > 40 for _, w, h in found), found  # laid out, not collapsed
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


@needs_chromium
def test_the_browser_check_sees_console_errors(tmp_path):
    # The check above is only worth something if it can fail: a page that logs an error and throws.
    page = tmp_path / "bad.html"
    page.write_text("<!doctype html><html><head><link rel='icon' href='data:,'></head><body>"
                    "<script>console.error('boom'); undefinedFunction();</script></body></html>")
    errors, found = open_page(page.as_uri(), tmp_path / "profile")
    assert any("boom" in e for e in errors) and any("undefinedFunction" in e or "Uncaught" in e for e in errors)
    assert found == []


def test_cached_seconds_domain_names_cards_and_warnings(tmp_path):
    from conftest import trace_rows, trace_table
    from curate import recipe, run, store

    rows = trace_rows()
    for i, row in enumerate(rows):
        row["domain"], row["domain_name"] = ("05", "Combinatorics") if i % 2 else ("97", "Mathematics education")
    store.save_traces(trace_table(rows), tmp_path / "traces", prefix="hand")
    text = ("name: r\nstages:\n  - verify: {timeout_s: 5, workers: 1}\n"
            "  - difficulty: {mode: s1, attempts_from: students, grade: meta}\n")
    first = run.run(recipe.parse(text, "r.yaml"), tmp_path / "traces", tmp_path / "run")
    again = run.run(recipe.parse(text, "r.yaml"), tmp_path / "traces", tmp_path / "run")
    verify_cost = first.stages[0].seconds
    assert again.stages[0].cached and again.stages[0].seconds == verify_cost and verify_cost > 0
    assert again.manifest["stages"][0]["cached_seconds"] is not None
    html = report.build(tmp_path / "run")
    assert "05 Combinatorics" in html and "97 Mathematics education" in html
    assert "01-verify (cached)" in html and f"computed in {verify_cost:.2f} s" in html
    assert "teacher: <b>hand-teacher</b>" in html and "gold: <b>4</b>" in html and "verdict: <b>correct</b>" in html
    # The difficulty stage had no attempts: said on top of the page, as in the manifest.
    assert again.manifest["warnings"] and "02-difficulty</b>: no student attempts" in html
