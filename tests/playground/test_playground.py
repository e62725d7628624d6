"""The playground page, as a person uses it: the real `specfuse serve` on two real models,
its page driven by headless Chromium (Debian's chromium and chromium-driver)."""
import http.client
import json
import os
import sys

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../.."))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from serve_process import ServeProcess  # noqa: E402

SCREENSHOT = os.environ.get("SPECFUSE_SCREENSHOT", os.path.join(ROOT, "docs/playground.png"))
ENSEMBLE = ["smollm2-135m", "qwen2.5-coder-0.5b"]
ALONE = "smollm2-135m"
PROMPT = "Explain in two sentences why the sky is blue."


class Server(ServeProcess):
    """One `specfuse serve` process on a free loopback port; its stderr is kept in `log`."""

    def __init__(self, *args):
        super().__init__("--threads", "2", *args)

    def get(self, path):
        """Returns (status, content type, body bytes); the path is sent as it is."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.getheader("Content-Type"), r.read()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def server():
    s = Server(*[a for m in ENSEMBLE for a in ("-m", m)])
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--hide-scrollbars", "--window-size=1280,900", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")),
                              options=options)
    # The page's own viewport, whatever the window's frame takes.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    yield driver
    driver.quit()


def page_errors(driver):
    """Console errors the page raised (a CSP violation or an exception shows here)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def set_field(driver, element_id, value):
    e = driver.find_element(By.ID, element_id)
    e.clear()
    e.send_keys(str(value))


def test_the_page_and_only_its_assets_are_served(server):
    status, ctype, body = server.get("/")
    assert status == 200 and ctype.startswith("text/html")
    assert b"specfuse playground" in body and b"/playground/app.js" in body
    status, ctype, body = server.get("/playground/app.js")
    assert status == 200 and ctype.startswith("text/javascript") and b"/v1/chat/completions" in body
    status, ctype, _ = server.get("/playground/style.css")
    assert status == 200 and ctype.startswith("text/css")
    for path in ("/index.html", "/app.js", "/web/app.js", "/playground/../../etc/passwd",
                 "/playground/", "/nope"):
        status, ctype, body = server.get(path)
        assert status == 404, path
        assert ctype == "application/json" and "error" in json.loads(body), path


def test_an_answer_streams_in_tinted_by_its_writers_and_rounds_explain_themselves(server, browser):
    browser.get(server.url + "/")
    WebDriverWait(browser, 30).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#model option")) == 1 + len(ENSEMBLE))
    assert [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#model option")] == \
        ["specfuse", *ENSEMBLE]
    legend = [c.get_attribute("data-model") for c in browser.find_elements(By.CSS_SELECTOR, "#legend .chip")]
    assert legend == ENSEMBLE

    prompt = browser.find_element(By.ID, "prompt")
    prompt.clear()
    prompt.send_keys(PROMPT)
    set_field(browser, "temperature", 0)
    set_field(browser, "max-tokens", 40)
    set_field(browser, "seed", 7)
    Select(browser.find_element(By.ID, "compare")).select_by_value(ALONE)
    browser.find_element(By.ID, "send").click()
    WebDriverWait(browser, 400, poll_frequency=0.5).until(lambda d: d.execute_script(
        "const p = window.playground; return p.last && p.last.done && p.compare && p.compare.done;"))

    run = browser.execute_script("return window.playground.last;")
    assert run["error"] is None, run["error"]
    assert run["model"] == "specfuse" and run["request"]["seed"] == 7
    assert run["request"]["specfuse"] == {"trace": True, "segment_tokens": 10, "exit": True,
                                          "weights": "uniform", "score": "logit"}
    rounds = {r["round"]: r for r in run["rounds"]}
    summary = run["summary"]
    assert summary and summary["rounds"] == len(rounds) > 0
    assert summary["output_tokens"] <= 40

    # Every segment on the page is the winning candidate of its round, attributed to the
    # model that drafted it, in order; together they are the answer.
    spans = browser.find_elements(By.CSS_SELECTOR, "#answer .seg")
    assert spans
    seen = []
    for span in spans:
        number = int(span.get_attribute("data-round"))
        r = rounds[number]
        assert span.get_attribute("data-model") == r["winner_model"] in ENSEMBLE
        assert r["winner_model"] in r["candidates"][r["winner"]]["models"]
        assert browser.execute_script("return arguments[0].textContent;", span) == \
            r["candidates"][r["winner"]]["text"]
        seen.append(number)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert seen == [n for n in sorted(rounds) if rounds[n]["candidates"][rounds[n]["winner"]]["text"]]
    assert browser.execute_script("return document.getElementById('answer').textContent;") == run["text"]
    won = {}
    for r in rounds.values():
        for m in r["candidates"][r["winner"]]["models"]:
            won[m] = won.get(m, 0) + 1
    assert summary["rounds_won"] == won

    # The totals.
    stats = {s.find_element(By.CLASS_NAME, "label").get_attribute("textContent"):
             s.find_element(By.CLASS_NAME, "value").get_attribute("textContent")
             for s in browser.find_elements(By.CSS_SELECTOR, "#stats .stat")}
    assert stats["rounds"] == str(summary["rounds"])
    assert stats["model calls"] == str(summary["model_calls"])
    assert stats["calls saved"] == str(summary["calls_saved_by_exit"])
    assert stats["tokens/s"] != "–" and stats["first token"] != "–"

    # The timeline: one cell per model and round, winners filled.
    cells = browser.find_elements(By.CSS_SELECTOR, "#timeline .tl-cell")
    assert len(cells) == len(ENSEMBLE) * len(rounds)
    for cell in browser.find_elements(By.CSS_SELECTOR, "#timeline .tl-cell.win"):
        r = rounds[int(cell.get_attribute("data-round"))]
        assert cell.get_attribute("data-model") in r["candidates"][r["winner"]]["models"]

    # One round's details: the round with the most candidates (a contested one).
    number = max(seen, key=lambda n: (len(rounds[n]["candidates"]), -n))
    r = rounds[number]
    browser.find_element(By.CSS_SELECTOR, f'#answer .seg[data-round="{number}"]').click()
    assert browser.find_element(By.ID, "details-title").get_attribute("textContent").startswith(f"Round {number}")
    rows = browser.find_elements(By.CSS_SELECTOR, "#details table.candidates tbody tr")
    assert len(rows) == len(r["candidates"])
    for i, (row, c) in enumerate(zip(rows, r["candidates"])):
        assert ("winner" in row.get_attribute("class").split()) == (i == r["winner"])
        drafters = [chip.text for chip in row.find_elements(By.CSS_SELECTOR, ".chip")]
        assert drafters == c["models"]
        for s in r["scores"]:
            cell = row.find_element(By.CSS_SELECTOR, f'td.score[data-verifier="{s["verifier"]}"]')
            assert cell.find_element(By.CLASS_NAME, "score-value").text == f'{s["normalized"][i]:.3f}'
        if r["combined"]:
            assert row.find_element(By.CLASS_NAME, "combined").text == f'{r["combined"][i]:.3f}'
    headers = browser.find_element(By.CSS_SELECTOR, "#details thead").text
    for s in r["scores"]:
        assert s["verifier"] in headers

    # Side by side: the same prompt to one member alone, in the second column.
    alone = browser.execute_script("return window.playground.compare;")
    assert alone["error"] is None and alone["model"] == ALONE and alone["request"]["seed"] == 7
    assert alone["text"] and all(r["winner_model"] == ALONE for r in alone["rounds"])
    assert browser.find_element(By.ID, "compare-panel").is_displayed()
    assert browser.execute_script("return document.getElementById('compare-answer').textContent;") == alone["text"]

    assert page_errors(browser) == []
    browser.execute_script("window.scrollTo(0, 0);")
    os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
    assert browser.save_screenshot(SCREENSHOT)


def test_a_server_with_an_api_key_has_the_page_ask_for_it(browser):
    s = Server("-m", ALONE, "--api-key", "sesame")
    try:
        browser.get(s.url + "/")
        form = browser.find_element(By.ID, "api-key-form")
        WebDriverWait(browser, 30).until(lambda d: form.is_displayed())
        assert "API key" in browser.find_element(By.ID, "server-state").text
        set_field(browser, "api-key", "sesame")
        form.find_element(By.TAG_NAME, "button").click()
        WebDriverWait(browser, 30).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "#model option")) == 2)
        assert browser.find_element(By.ID, "server-state").text.startswith("ready")
        # The key lives in the page only.
        assert browser.execute_script("return localStorage.length + sessionStorage.length;") == 0
        assert [e for e in page_errors(browser) if "401" not in e] == []
    finally:
        s.stop()


def synthetic_round(number, candidates, winner, active, exited=(), solo=False):
    """A round trace as the server streams it, for rounds no small model run can promise."""
    scores = [] if solo or len(candidates) < 2 else [
        {"verifier": v, "raw": [0.5] * len(candidates),
         "normalized": [0.7 if i == winner else 0.3 / (len(candidates) - 1) for i in range(len(candidates))],
         "reused": [c[1] == v for c in candidates]} for v in active]
    return {"round": number,
            "candidates": [{"model": m, "models": [m], "text": t, "tokens": 3, "end_of_generation": False}
                           for t, m in candidates],
            "scores": scores, "weights": {v: 1 / len(active) for v in active},
            "combined": [] if not scores else [s for s in scores[0]["normalized"]],
            "winner": winner, "winner_model": candidates[winner][1], "active": list(active),
            "exited": list(exited), "failed": [], "exit_entropy": None, "solo": solo,
            "draft_ms": 10, "verify_ms": 5, "accept_ms": 1}


def test_exits_and_solo_rounds_are_drawn_on_the_timeline(server, browser):
    small, coder = ENSEMBLE
    rounds = [
        synthetic_round(1, [("Rivers", small), ("Rivers run", coder)], 1, ENSEMBLE),
        synthetic_round(2, [(" carve", small), (" to the sea", coder)], 1, ENSEMBLE),
        synthetic_round(3, [(" stone", small), (",", coder)], 1, ENSEMBLE, exited=[small]),
        synthetic_round(4, [(" patiently.", coder)], 0, [coder], solo=True),
    ]
    chunks = [{"model": "specfuse", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                                 "finish_reason": None}]}]
    for r in rounds:
        text = r["candidates"][r["winner"]]["text"]
        chunks.append({"model": "specfuse", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
                       "specfuse": {"round": r}})
    chunks.append({"model": "specfuse", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                   "specfuse": {"summary": {"rounds": 4, "model_calls": 13, "calls_saved_by_exit": 3,
                                            "output_tokens": 12, "prompt_tokens": 10, "wall_ms": 100,
                                            "first_segment_ms": 20, "finish_reason": "stop",
                                            "rounds_won": {coder: 4}}}})
    sse = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"

    browser.get(server.url + "/")
    WebDriverWait(browser, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#model option")) > 1)
    # The server's stream, replayed in two pieces split mid-event, as a network would.
    browser.execute_script("""
        const sse = arguments[0], cut = Math.floor(sse.length / 2);
        const real = window.fetch;
        window.fetch = (url, init) => {
          if (!String(url).endsWith('/v1/chat/completions')) return real(url, init);
          const enc = new TextEncoder();
          const body = new ReadableStream({start(c) {
            c.enqueue(enc.encode(sse.slice(0, cut)));
            setTimeout(() => { c.enqueue(enc.encode(sse.slice(cut))); c.close(); }, 50);
          }});
          return Promise.resolve(new Response(body, {status: 200, headers: {'Content-Type': 'text/event-stream'}}));
        };""", sse)
    Select(browser.find_element(By.ID, "compare")).select_by_value("")
    browser.find_element(By.ID, "send").click()
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return window.playground.last.done;"))

    assert browser.execute_script("return document.getElementById('answer').textContent;") == \
        "Rivers run to the sea, patiently."
    exit_cells = browser.find_elements(By.CSS_SELECTOR, "#timeline .tl-cell.exit")
    assert [(c.get_attribute("data-model"), c.get_attribute("data-round"), c.text) for c in exit_cells] == \
        [(small, "3", "✕")]
    off = browser.find_elements(By.CSS_SELECTOR, "#timeline .tl-cell.off")
    assert [(c.get_attribute("data-model"), c.get_attribute("data-round")) for c in off] == [(small, "4")]
    assert [h.get_attribute("data-round") for h in browser.find_elements(By.CSS_SELECTOR, ".tl-head.solo")] == ["4"]
    assert "exited" in browser.find_element(By.CSS_SELECTOR, f'#legend .chip[data-model="{small}"]').get_attribute("class")

    browser.find_element(By.CSS_SELECTOR, '#answer .seg[data-round="3"]').click()
    assert f"Exited after this round: {small}." in browser.find_element(By.ID, "details").text
    browser.find_element(By.CSS_SELECTOR, '#answer .seg[data-round="4"]').click()
    details = browser.find_element(By.ID, "details").text
    assert "generating alone" in details
    assert len(browser.find_elements(By.CSS_SELECTOR, "#details tbody tr")) == 1
    stats = {s.find_element(By.CLASS_NAME, "label").get_attribute("textContent"):
             s.find_element(By.CLASS_NAME, "value").get_attribute("textContent")
             for s in browser.find_elements(By.CSS_SELECTOR, "#stats .stat")}
    assert stats["calls saved"] == "3" and stats["tokens/s"] == "120.0"
    assert page_errors(browser) == []
    browser.save_screenshot(os.path.join(os.environ.get("TMPDIR", "/tmp"), "playground-exit.png"))
