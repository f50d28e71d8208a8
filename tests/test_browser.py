"""The web app and the report in a real browser: Playwright driving Debian's chromium.

Never downloads a browser: Playwright is pointed at ``/usr/bin/chromium`` (the README's setup
command installs it). Screenshots go to ``test-output/`` for a reviewer to look at.
"""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "test-output"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RUNS = 2000  # the page's default

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
uvicorn = pytest.importorskip("uvicorn")


def _case() -> tuple[str, str, str, str]:
    """(scenario, actor, default strategy, other strategy): the flagship when it is bundled, else the example."""
    from redline.scenario import bundled_scenarios, load_scenario

    if "iran-us-2020" in bundled_scenarios():
        spec = load_scenario("iran-us-2020").spec
        names = [s for s, v in spec.strategies.items() if v.actor == "iran"]
        default = spec.actors["iran"].strategy or names[0]
        other = "rapid_overt" if "rapid_overt" in names and default != "rapid_overt" else \
            next(n for n in names if n != default)
        return "iran-us-2020", "iran", default, other
    return "proxy-deterrence", "challenger", "deniable", "loud"


@pytest.fixture(scope="module")
def server():
    from redline.web import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    srv = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "the app did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    SHOTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    yield page
    context.close()


def _probabilities(page, column: str) -> dict[str, float]:
    cells = page.locator(f'#outcome-table td[data-strategy="{column}"]')
    return {cells.nth(i).get_attribute("data-outcome"): float(cells.nth(i).get_attribute("data-p"))
            for i in range(cells.count())}


def _wait_for_new_result(page, previous: str | None) -> str:
    page.wait_for_function(
        "prev => { const r = document.getElementById('results');"
        " return r && !r.hidden && r.dataset.job && r.dataset.job !== prev"
        " && document.body.dataset.running === '0'; }", arg=previous or "")
    return page.locator("#results").get_attribute("data-job")


def test_run_change_strategy_and_match_the_api(server, page):
    from redline.calibrate import shipped_posterior
    from redline.results import outcome_summary
    from redline.experiments.compare import simulate
    from redline.scenario import load_scenario

    scenario, actor, default, other = _case()
    post = shipped_posterior(load_scenario(scenario))  # the page draws from it, as `redline run` does
    page.goto(f"{server}/?scenario={scenario}")
    first = _wait_for_new_result(page, None)  # the page runs the chosen scenario once on load
    before = _probabilities(page, "run")
    assert before == {o: s["probability"] for o, s in
                      outcome_summary(simulate(scenario, runs=RUNS, seed=0, posterior=post)).items()}
    assert page.locator("#prior-box").is_visible() == (post is not None)
    said = page.inner_text("#result-parameters")
    assert said == (f"parameters drawn from the shipped posterior ({post.particles:,} particles)" if post else
                    "parameters at their priors/defaults (no posterior ships with this scenario)")

    # the second run fits the app's memory budget for per-week state, so it draws the fan charts too
    # (the rebuilt flagship runs 348 weeks with 73 state variables: 2,000 runs exceed the budget)
    from redline.web.app import TRAJECTORY_BUDGET

    spec = load_scenario(scenario).spec
    runs = min(RUNS, TRAJECTORY_BUDGET // (spec.meta.horizon * len(spec.state)))
    page.fill("#runs", str(runs))
    page.select_option(f"#strategy-{actor}", other)
    page.click("#run-button")
    _wait_for_new_result(page, first)
    after = _probabilities(page, "run")
    assert after != before, f"changing {actor}'s strategy to {other} changed nothing on the page"
    expected = outcome_summary(simulate(scenario, runs=runs, seed=0, strategies={actor: other}, posterior=post))
    assert after == {o: s["probability"] for o, s in expected.items()}
    # the displayed percentage is the same number, rounded
    shown = page.locator(f'#outcome-table td[data-strategy="run"] b').first.inner_text()
    assert shown == f"{100 * next(iter(after.values())):.1f}%"
    assert page.locator("#chart-timing svg").count() == 1 and page.locator("#chart-state svg").count() == 1
    page.screenshot(path=str(SHOTS / "app-run.png"), full_page=False)
    if post is not None:  # the priors instead, on a few runs: the numbers of the API without the posterior
        page.check("#prior-toggle")
        page.fill("#runs", "100")
        page.click("#run-button")
        _wait_for_new_result(page, page.locator("#results").get_attribute("data-job"))
        expected = outcome_summary(simulate(scenario, runs=100, seed=0, strategies={actor: other}))
        assert _probabilities(page, "run") == {o: s["probability"] for o, s in expected.items()}
        assert page.inner_text("#result-parameters") == ("parameters at their priors/defaults "
                                                         "(the priors were asked for instead of the shipped posterior)")


def test_compare_side_by_side(server, page):
    scenario, actor, default, other = _case()
    page.goto(f"{server}/?scenario={scenario}")
    first = _wait_for_new_result(page, None)
    page.check("#compare-toggle")
    page.select_option("#compare-actor", actor)
    page.select_option("#compare-a", default)
    page.select_option("#compare-b", other)
    page.click("#run-button")
    _wait_for_new_result(page, first)
    assert page.locator(f'#outcome-table td[data-strategy="{default}"]').count() > 0
    assert page.locator(f'#outcome-table td[data-strategy="{other}"]').count() > 0
    assert page.locator("#difference-table tbody tr").count() == page.locator("#outcome-table tbody tr").count()
    # mechanisms: every red line and every action has a cell per strategy
    for table, key in (("red-line-table", "data-red-line"), ("action-table", "data-action")):
        rows = page.locator(f"#{table} tbody tr").count()
        assert rows > 0
        for strategy in (default, other):
            assert page.locator(f'#{table} td[{key}][data-strategy="{strategy}"]').count() == rows
    page.screenshot(path=str(SHOTS / "app-compare.png"), full_page=True)
    # clicking an outcome opens its provenance row
    page.locator("#outcome-table a[data-prov]").first.click()
    assert page.locator("#tab-provenance").is_visible()
    page.click('.tabs button[data-tab="picture"]')
    assert page.locator("#graph svg .sg-node").count() > 5
    page.screenshot(path=str(SHOTS / "app-scenario.png"))


def test_broken_upload_shows_the_line_inline(server, page):
    from tests.conftest import EXAMPLE

    assert "exit: if(tension < 60" in EXAMPLE.read_text()
    text = EXAMPLE.read_text().replace("exit: if(tension < 60", "exit: if(tenson < 60")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "tenson" in row)
    page.goto(server)
    _wait_for_new_result(page, None)
    page.set_input_files("#upload-input", files=[{"name": "broken.yaml", "mimeType": "text/yaml",
                                                   "buffer": text.encode()}])
    error = page.locator("#upload-error")
    error.wait_for(state="visible")
    assert error.get_attribute("data-line") == str(line)
    assert f"broken.yaml:{line}:" in error.inner_text()
    assert "did you mean 'tension'" in error.inner_text()
    page.screenshot(path=str(SHOTS / "app-upload-error.png"))
    # a good upload then appears in the list and can be run
    page.set_input_files("#upload-input", files=[{"name": "mine.yaml", "mimeType": "text/yaml",
                                                   "buffer": EXAMPLE.read_bytes()}])
    page.wait_for_function("() => document.body.dataset.scenario.startsWith('upload-')")
    assert error.is_hidden()
    assert page.locator("#prior-box").is_hidden()  # an upload has no posterior beside it


def test_report_renders_offline(browser, tmp_path):
    from redline.experiments.compare import compare
    from redline.report import write_report
    from redline.results import save_result

    scenario, actor, default, other = _case()
    result = compare(scenario, actor=actor, strategies=[default, other], runs=1000, seed=0, trajectories=True)
    save_result(tmp_path / "res", result.datasets, {"kind": "compare", **result.summary()})
    report = write_report(tmp_path / "res", tmp_path / "report.html")[0]

    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
    requests: list[str] = []
    context.route("**/*", lambda route: (requests.append(route.request.url), route.abort()
                                         if not route.request.url.startswith("file:") else route.continue_()))
    page = context.new_page()
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    assert [u for u in requests if not u.startswith("file:")] == []
    sizes = page.evaluate("() => Array.from(document.querySelectorAll('figure svg'))"
                          ".map(s => { const r = s.getBoundingClientRect(); return [r.width, r.height]; })")
    assert len(sizes) >= 4 and all(w > 200 and h > 100 for w, h in sizes), sizes
    drawn = page.evaluate("() => document.querySelectorAll('figure svg path, figure svg rect').length")
    assert drawn > 50
    page.screenshot(path=str(SHOTS / "report.png"), full_page=False)
    page.screenshot(path=str(SHOTS / "report-full.png"), full_page=True)
    context.close()


def test_play_an_actor_in_the_browser(server, page):
    page.goto(f"{server}/play?scenario=proxy-deterrence&actor=challenger")
    page.wait_for_function("() => document.getElementById('play-actor').options.length > 0")
    page.fill("#play-horizon", "5")
    page.fill("#play-seed", "2")
    page.click("#play-start")
    page.wait_for_function("() => document.body.dataset.status === 'waiting' && document.body.dataset.week === '1'")
    assert "Week 1" in page.inner_text("#play-week")
    assert "may trip: two_attributed_attacks" in page.inner_text("#play-tracks")
    page.screenshot(path=str(SHOTS / "play-turn.png"), full_page=True)
    for week in range(1, 6):
        page.wait_for_function(f"() => document.body.dataset.week === '{week}' && !document.getElementById('play-turn').hidden"
                               " || document.body.dataset.status === 'done'")
        if page.evaluate("() => document.body.dataset.status") == "done":
            break
        page.check("#opt-military-proxy_attack")
        page.click("#play-choose")
    page.wait_for_function("() => document.body.dataset.status === 'done'")
    headers = page.locator("#play-outcomes thead th").all_inner_texts()
    assert headers[:2] == ["outcome", "you"] and {"deniable", "loud", "chooser"} <= set(headers)
    from tests.conftest import EXAMPLE

    outcomes = yaml.safe_load(EXAMPLE.read_text())["outcomes"]
    assert page.locator('#play-outcomes td[data-arm="you"]').count() == len(outcomes)  # one row per outcome
    assert page.inner_text("#result-parameters") == "parameters at their priors/defaults (no posterior ships with this scenario)"
    assert page.locator("#prior-box").is_hidden()
    page.screenshot(path=str(SHOTS / "play-result.png"), full_page=True)
    scenario = _case()[0]
    if scenario != "proxy-deterrence":  # the flagship ships a posterior: the page offers the priors instead
        from redline.calibrate import posterior_beside
        from redline.scenario import load_scenario

        page.select_option("#play-scenario", scenario)
        if posterior_beside(load_scenario(scenario)) is not None:
            page.locator("#prior-box").wait_for(state="visible")
            page.click("#play-start")  # the game draws from it, and the page says so
            page.wait_for_function("() => document.body.dataset.status === 'waiting'"
                                   " && document.getElementById('result-parameters').dataset.posterior")
            assert page.inner_text("#result-parameters").startswith("parameters drawn from the shipped posterior (")
