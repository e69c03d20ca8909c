"""The dashboard and the feedback demo in a real headless chromium, against the running service."""

from __future__ import annotations

import re
import time

import pytest

from bci.online.messages import CalibrationMessage, Cue, MuSuppression
from bci.online.monitor import QUALITY_FLAGS
from bci.online.neurofeedback import MuSuppressionFeed
from bci.online.recording import SessionRecording

pytestmark = [pytest.mark.browser, pytest.mark.network]


def _open_dashboard(page, demo_service, session_id: str = "1") -> None:
    page.goto(demo_service.page(f"/?session={session_id}"))
    page.wait_for_function("window.bciDashboard && window.bciDashboard.ready === true")


def _js(page, expr: str):
    return page.evaluate(f"() => {expr}")


def test_live_view_traces_and_predictions_update(page, console, demo_service, artifacts):
    _open_dashboard(page, demo_service)
    # Signal and decisions flow: the traces draw frames with data, predictions arrive.
    page.wait_for_function(
        "window.bciDashboard.traces.frames > 5 && window.bciDashboard.state.nPredictions > 5"
    )
    page.wait_for_timeout(1500)  # a screenful of signal, and the channel table filled
    shot1 = page.locator("#traces").screenshot()
    frames1 = _js(page, "window.bciDashboard.traces.frames")
    last_t1 = _js(page, "window.bciDashboard.traces.lastT")
    n_pred1 = _js(page, "window.bciDashboard.state.nPredictions")
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
    page.wait_for_timeout(700)
    shot2 = page.locator("#traces").screenshot()

    # The traces move: new pixels, more frames, newer samples.
    assert shot1 != shot2
    assert _js(page, "window.bciDashboard.traces.frames") > frames1
    assert _js(page, "window.bciDashboard.traces.lastT") > last_t1
    # Predictions update: more of them, a label from the model's classes, live counters.
    assert _js(page, "window.bciDashboard.state.nPredictions") > n_pred1 + 5
    classes = demo_service.manager.get("1").model.classes
    assert page.locator("#current-label").inner_text().lower() in [c.lower() for c in classes]
    assert page.locator("#proba-bars .bar-row").count() == len(classes)
    assert re.fullmatch(r"\d+\.\d / \d+\.\d", page.locator("#st-latency").inner_text())
    assert int(page.locator("#st-windows").inner_text()) > 0
    assert page.locator("#st-state").inner_text() == "running"
    assert page.locator("#ws-state").get_attribute("data-state") == "open"

    # One row per channel with a quality flag and mu/beta power.
    ch_names = demo_service.manager.get("1").ch_names
    rows = page.locator("#channel-rows tr")
    assert rows.count() == len(ch_names)
    for i, ch in enumerate(ch_names):
        row = rows.nth(i)
        assert row.locator("td.ch").inner_text() == ch
        assert row.locator(".chip").get_attribute("data-quality") in QUALITY_FLAGS
        assert float(row.locator(".mu-v").inner_text()) > 0
        assert float(row.locator(".beta-v").inner_text()) > 0
    assert page.locator("#signal-missing").is_hidden()
    assert console.errors == []


def test_controls_follow_the_server_routes(page, console, demo_service):
    _open_dashboard(page, demo_service)
    controls = {
        "#cal-start": ("POST", "/sessions/{id}/calibration"),
        "#model-activate": ("POST", "/sessions/{id}/model"),
        "#rec-start": ("POST", "/sessions/{id}/recording"),
        "#rec-stop": ("DELETE", "/sessions/{id}/recording"),
        "#replay-start": ("POST", "/replays"),
    }
    for selector, (method, path) in controls.items():
        enabled = page.locator(selector).is_enabled()
        assert enabled == demo_service.has_route(method, path), selector
    assert console.errors == []


def test_start_and_stop_a_session_from_the_page(page, console, demo_service, artifacts):
    _open_dashboard(page, demo_service)
    name = demo_service.stream_name
    page.wait_for_selector(f"#stream-select option[value='{name}']", state="attached")
    page.select_option("#stream-select", value=name)
    before = {s.id for s in demo_service.manager.list()}
    page.click("#session-start")
    page.wait_for_function(
        "(old) => { const s = window.bciDashboard.state.sessionId;"
        " return s !== null && !old.includes(s); }",
        arg=sorted(before),
    )
    new_id = _js(page, "window.bciDashboard.state.sessionId")
    assert new_id in {s.id for s in demo_service.manager.list()}
    assert f"session={new_id}" in page.url
    # A session without a model still shows its signal.
    page.wait_for_function("window.bciDashboard.traces.frames > 3")
    assert page.locator("#model-active").inner_text() == "none"
    page.screenshot(path=str(artifacts / "dashboard-new-session.png"))
    page.click("#session-stop")
    page.wait_for_function(f"window.bciDashboard.state.sessionId !== '{new_id}'")
    assert f"Session {new_id} stopped." in page.locator("#session-msg").inner_text()
    assert new_id not in {s.id for s in demo_service.manager.list()}
    assert console.errors == []


def test_mu_suppression_gauge_appears_with_its_messages(page, console, demo_service, artifacts):
    _open_dashboard(page, demo_service)
    has_api = demo_service.has_route("PUT", "/sessions/{id}/mu-suppression")
    assert page.locator("#card-mu").is_visible() == has_api  # shown early only with controls
    page.wait_for_function("window.bciDashboard.state.nPredictions > 0")
    session = demo_service.manager.get("1")
    for v in (-0.1, -0.25, -0.32):
        session.publish(
            MuSuppression(
                session_id="1",
                t=session.clock(),
                index=v,
                smoothed=v,
                channels={"C3": {"mu": v - 0.1, "beta": v / 2}, "C4": {"mu": v, "beta": 0.0}},
                band="mu",
                occipital_alpha=None,
                occipital={},
                n_windows=1,
            )
        )
        time.sleep(0.05)
    page.wait_for_selector("#card-mu", state="visible")
    page.wait_for_function("document.getElementById('mu-value').textContent === '-0.32'")
    assert "C3: mu -0.42" in page.locator("#mu-channels").inner_text()
    page.locator("#card-mu").screenshot(path=str(artifacts / "mu-gauge.png"))
    assert console.errors == []


def test_mu_suppression_controls_drive_the_gauge(page, console, demo_service, artifacts):
    if not demo_service.has_route("PUT", "/sessions/{id}/mu-suppression"):
        pytest.skip("the service has no PUT /sessions/{id}/mu-suppression route yet")
    _open_dashboard(page, demo_service)
    page.wait_for_function("window.bciDashboard.traces.frames > 0")
    page.click("#mu-enable")
    page.wait_for_function(
        "/^On for C3, Cz, C4/.test(document.getElementById('mu-msg').textContent)"
    )
    page.wait_for_timeout(600)
    page.fill("#mu-baseline-s", "2")
    page.click("#mu-baseline")
    page.wait_for_function("/^Baseline set/.test(document.getElementById('mu-msg').textContent)")
    page.wait_for_function(
        "/^-?\\d\\.\\d\\d$/.test(document.getElementById('mu-value').textContent)"
    )
    assert "C3: mu" in page.locator("#mu-channels").inner_text()
    assert demo_service.manager.get("1").stage(MuSuppressionFeed).n_values > 0
    page.locator("#card-mu").screenshot(path=str(artifacts / "mu-gauge-live.png"))
    page.click("#mu-disable")
    page.wait_for_function("document.getElementById('mu-msg').textContent === 'Off.'")
    assert demo_service.manager.get("1").stage(MuSuppressionFeed) is None
    assert console.errors == []


def test_token_comes_from_the_fragment_or_a_prompt(page, console, demo_service):
    from _helpers import TEST_TOKEN

    _open_dashboard(page, demo_service)
    # read from #token=..., kept in the tab, gone from the address bar (and so from history)
    assert _js(page, "location.hash") == ""
    assert _js(page, "sessionStorage.getItem('bci.token')") == TEST_TOKEN
    page.wait_for_function("window.bciDashboard.state.nPredictions > 0")

    # opened without it: the page asks once, then the WebSocket is authorised
    asked: list[str] = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept(TEST_TOKEN)

    fresh = page.context.new_page()
    fresh.on("dialog", answer)
    fresh.goto(demo_service.page("/demo?session=1", token=None))
    fresh.wait_for_function("window.bciDemo && window.bciDemo.nPredictions > 3")
    assert len(asked) == 1 and "API token" in asked[0]
    assert console.errors == []


def test_feedback_demo_ball_moves(page, console, demo_service, artifacts):
    page.goto(demo_service.page("/demo?session=1"))
    page.wait_for_function("window.bciDemo && window.bciDemo.nPredictions > 3")
    x0 = _js(page, "window.bciDemo.x")
    hits0 = _js(page, "window.bciDemo.hits.left + window.bciDemo.hits.right")
    page.wait_for_timeout(800)
    x1 = _js(page, "window.bciDemo.x")
    hits1 = _js(page, "window.bciDemo.hits.left + window.bciDemo.hits.right")
    assert x1 != x0 or hits1 != hits0
    transform = page.locator("#ball").evaluate("el => el.style.transform")
    assert transform.startswith("translateX(")
    assert page.locator("#ws-state").get_attribute("data-state") == "open"
    assert page.locator("#label").inner_text().lower() in ("left", "right")
    page.screenshot(path=str(artifacts / "demo.png"))
    assert console.errors == []


def test_cues_are_shown_large(page, console, demo_service, artifacts):
    """Cue messages (as a calibration sends them) take over the screen; no calibration runs."""
    _open_dashboard(page, demo_service)
    page.wait_for_function("window.bciDashboard.state.nPredictions > 0")
    session = demo_service.manager.get("1")

    def cue(phase: str, label: str | None, text: str, trial: int) -> None:
        session.publish(
            Cue(
                session_id="1",
                phase=phase,
                t=session.clock(),
                trial=trial,
                n_trials=4,
                cues="service",
                label=label,
                cue=text,
            )
        )

    cue("fixation", None, "+", 1)
    page.wait_for_selector("#cue-overlay[data-phase='fixation']", state="visible")
    assert page.locator("#cue-symbol").inner_text() == "+"
    cue("cue", "left", "Imagine squeezing your LEFT hand", 1)
    page.wait_for_selector("#cue-overlay[data-phase='cue']")
    assert page.locator("#cue-symbol").inner_text() == "←"
    assert page.locator("#cue-text").inner_text() == "Imagine squeezing your LEFT hand"
    assert page.locator("#cue-progress").inner_text() == "Trial 1 of 4"
    font_px = page.locator("#cue-symbol").evaluate(
        "el => parseFloat(getComputedStyle(el).fontSize)"
    )
    assert font_px >= 150
    page.screenshot(path=str(artifacts / "cue-left.png"))
    cue("cue", "feet", "Imagine moving both FEET", 2)
    page.wait_for_function("document.getElementById('cue-symbol').textContent === '⇓'")
    cue("cue", "observe", "Watch the hand grasp the cup", 3)
    page.wait_for_selector("#cue-symbol .video-box", state="visible")
    page.screenshot(path=str(artifacts / "cue-observe.png"))
    session.publish(CalibrationMessage(session_id="1", state="cancelled"))
    page.wait_for_selector("#cue-overlay", state="hidden")
    assert console.errors == []


def _calibration_ready(service) -> str | None:
    if not service.has_route("POST", "/sessions/{id}/calibration"):
        return "the service has no POST /sessions/{id}/calibration route yet"
    try:
        from bci.decoders import get_pipeline  # noqa: F401
    except ImportError:
        return "bci.decoders.get_pipeline (named pipelines) is not available yet"
    return None


@pytest.mark.slow
def test_calibration_from_the_page_reaches_a_cv_score(page, console, demo_service, artifacts):
    reason = _calibration_ready(demo_service)
    if reason:
        pytest.skip(reason)
    _open_dashboard(page, demo_service)
    page.select_option("#cal-paradigm", "imagery-left-right")
    page.fill("#cal-trials", "2")
    page.click("details summary")
    for field, value in (
        ("#cal-fixation", "0.3"),
        ("#cal-trial", "1.5"),
        ("#cal-rest", "0.3"),
        ("#cal-tmin", "0.25"),
        ("#cal-tmax", "1.25"),
        ("#cal-jitter", "0"),
    ):
        page.fill(field, value)
    old_model = demo_service.manager.get("1").model.model_id
    page.click("#cal-start")
    # The cues are shown large: an arrow for the cued hand.
    page.wait_for_selector("#cue-overlay[data-phase='cue']", state="visible")
    symbol = page.locator("#cue-symbol").inner_text()
    assert symbol in ("←", "→")
    page.screenshot(path=str(artifacts / "calibration-cue.png"))
    page.wait_for_function(
        "/^\\d\\.\\d{3} \\(/.test(document.getElementById('cal-score').textContent)",
        timeout=40_000,
    )
    score = float(page.locator("#cal-score").inner_text().split()[0])
    assert 0.0 <= score <= 1.0
    new_model = demo_service.manager.get("1").model.model_id
    assert new_model != old_model
    assert new_model in page.locator("#cal-score").inner_text()
    page.screenshot(path=str(artifacts / "calibration-done.png"))
    assert console.errors == []


def test_recording_and_replay_from_the_page(page, console, demo_service, artifacts):
    _open_dashboard(page, demo_service)
    session = demo_service.manager.get("1")
    page.click("#rec-stop")  # sessions record by default
    page.wait_for_function(
        "document.getElementById('rec-msg').innerText.includes('Recording stopped')"
    )
    assert session.stage(SessionRecording) is None
    page.click("#rec-start")
    page.wait_for_function(
        "document.getElementById('rec-msg').innerText.includes('Recording to session-1-')"
    )
    rec = session.stage(SessionRecording)
    assert rec is not None and rec.active
    time.sleep(1.0)
    page.click("#rec-stop")
    page.wait_for_function(
        "document.getElementById('rec-msg').innerText.includes('Recording stopped')"
    )
    files = sorted((demo_service.manager.recordings_dir).glob("session-1-*.xdf"))
    assert files
    page.fill("#replay-path", files[-1].name)
    page.click("#replay-start")
    page.wait_for_function(
        "document.getElementById('replay-msg').innerText.includes('Replay started as stream')"
    )
    replays = [n for n in demo_service.manager.hosted if n.startswith("replay-")]
    assert replays, demo_service.manager.hosted
    page.screenshot(path=str(artifacts / "recording-replay.png"))
    demo_service.manager.hosted.pop(replays[0]).close()
    demo_service.manager.start_recording("1")  # leave it as it was
    assert console.errors == []
