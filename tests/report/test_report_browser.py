"""The HTML report in a real browser: Debian's Chromium, driven by Playwright with its
executable path set to the system binary (Playwright never downloads a browser here).

Checked: the page loads from a file:// URL with no console error or warning and no request
but the file itself; moving sliders changes every figure to what the Python model gives
for the same parameters; the generated JavaScript computes every component's monthly cost
as Python does at random slider settings; hostile labels show as text and run nothing.

Without a Chromium binary these tests are skipped, unless CI_REQUIRE_BROWSER=1 (set in
CI), where a missing browser is a failure."""

import math
import os
import random
import shutil
from pathlib import Path

import pytest
import sympy

import llmarch
from llmarch.compiler.jsgen import js_expression
from llmarch.compiler.present import money as _usd

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = ROOT / "examples" / "support_assistant.llmarch"
GROWTH = ROOT / "examples" / "growth_story.llmarch"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
REL = 1e-9


def _chromium() -> str | None:
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium", shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        sync_playwright = None
    missing = "no chromium binary (apt-get install chromium)" if executable is None else \
        "the playwright package is not installed" if sync_playwright is None else None
    if missing:
        if os.environ.get("CI_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CI_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=ARGS)
        yield chromium
        chromium.close()


class Page:
    """A report opened from a file:// URL, recording console messages, requests and dialogs."""

    def __init__(self, browser, path: Path):
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.console, self.requests, self.blocked, self.dialogs, self.errors = [], [], [], [], []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

        def route(r):
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                self.blocked.append(r.request.url)
                r.abort()

        self.page.route("**/*", route)
        self.page.goto(path.as_uri())

    def fig(self, name: str) -> tuple[float, str]:
        el = self.page.locator(f'[data-fig="{name}"]').first
        return float(el.get_attribute("data-value")), el.inner_text()

    def slide(self, index: int, value: float) -> float:
        """Set a slider (fill() dispatches input and change) and return the value it took."""
        slider = self.page.locator(f"#lm-p{index}")
        slider.fill(repr(float(value)))
        return float(slider.input_value())

    def assert_clean(self):
        assert self.errors == []
        assert [m for m in self.console if m[0] in ("error", "warning")] == []
        assert self.blocked == []
        assert all(url.startswith("file://") for url in self.requests), self.requests
        assert self.dialogs == []


@pytest.fixture(scope="module")
def support():
    return llmarch.load(SUPPORT)


@pytest.fixture(scope="module")
def support_page(support, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "support.html"
    path.write_text(support.report("production"), encoding="utf-8")
    return path


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-12)


def index_of(model, name: str) -> int:
    return list(model.compiled.arch.parameters).index(name)


def test_loads_with_no_error_and_no_request(browser, support_page):
    page = Page(browser, support_page)
    page.assert_clean()
    assert page.requests == [support_page.as_uri()]
    assert page.page.locator("#diagram").is_visible()
    assert page.fig("monthly_total")[1] == "$7,568.40"
    page.page.close()


def test_sliders_move_every_figure_to_pythons_value(browser, support_page, support):
    page = Page(browser, support_page)
    moved: dict[str, float] = {}
    for name, value in (("cache_hit", 0.55), ("tickets_per_day", 12345), ("rejected", 0.3), ("top_k", 7),
                        ("trace_sample", 0.25), ("dashboards", 333.5)):
        moved[name] = page.slide(index_of(support, name), value)
        result = support.cost("production", set=moved)
        monthly, text = page.fig("monthly_total")
        assert close(monthly, result.monthly_total), (name, monthly, result.monthly_total)
        assert text == _usd(result.monthly_total)
        for fig, expected in (("cost_per_request", result.cost_per_request), ("p_success", result.p_success),
                              ("cost_per_success", result.cost_per_success),
                              ("happy_path_monthly", result.happy_path_monthly),
                              ("failure_overhead_monthly", result.failure_overhead_monthly)):
            assert close(page.fig(fig)[0], expected), (name, fig)
    assert moved["tickets_per_day"] == 12345 and moved["top_k"] == 7
    # the derived parameter follows its inputs: context_tokens = rag_share * top_k * chunk_tokens
    k = index_of(support, "context_tokens")
    assert float(page.page.locator(f'[data-pv="{k}"]').get_attribute("data-value")) == 1 * 7 * 300
    # the cost vectors and the budget verdict follow too
    result = support.cost("production", set=moved)
    bars = page.page.locator("[data-bar-text]").all_text_contents()
    assert bars[0].startswith(_usd(result.by_category["inference"]) + " · ")
    verdict = page.page.locator('tr[data-b="0"] [data-col="verdict"]').inner_text()
    assert verdict == ("holds" if result.monthly_total < 8000 else "does not hold") == "does not hold"
    # every row of the component table, in the order of the CLI's table
    rows = page.page.locator("#lm-rows-top tr")
    shown = [(rows.nth(i).locator("code").first.inner_text(),
              float(rows.nth(i).locator('[data-col="monthly"]').get_attribute("data-value")))
             for i in range(rows.count())]
    expected = sorted(result.components, key=lambda c: (-c.monthly, c.name))
    assert [n for n, _ in shown] == [c.name for c in expected]
    assert all(close(v, c.monthly) for (_, v), c in zip(shown, expected))
    page.assert_clean()
    page.page.close()


_SHOWN_NUMBERS = """els => els.filter(e => !e.closest('[hidden]')).map(e => {
    const tr = e.closest('tr');
    const row = tr ? ['data-row', 'data-o', 'data-b'].map(a => tr.getAttribute(a)).join('/')
                     + tr.querySelector('td').textContent : '';
    return row + '|' + (e.getAttribute('data-fig') || e.getAttribute('data-col') || e.getAttribute('data-pv'))
           + '|' + e.textContent;
}).sort()"""


def test_reset_restores_the_scenario(browser, support_page, support):
    page = Page(browser, support_page)
    before = page.page.eval_on_selector_all("[data-fig], [data-col], [data-pv]", _SHOWN_NUMBERS)
    page.slide(index_of(support, "cache_hit"), 0.8)
    page.slide(index_of(support, "call_failure"), 0.25)
    assert page.fig("monthly_total")[1] != "$7,568.40"
    page.page.click("#lm-reset")
    after = page.page.eval_on_selector_all("[data-fig], [data-col], [data-pv]", _SHOWN_NUMBERS)
    assert len(after) > 150
    assert after == before        # the JavaScript formats every number exactly as Python did
    page.assert_clean()
    page.page.close()


def test_every_component_at_random_settings(browser, support_page, support):
    page = Page(browser, support_page)
    arch = support.compiled.arch
    params = list(arch.parameters.values())
    sliders = [i for i, p in enumerate(params) if p.low is not None and p.high is not None and not p.builtin]
    base = page.page.evaluate("window.llmarchReport.values()")
    names = [r.key for r in support.compiled.evaluator._rows] + list(arch.fixed)
    rng = random.Random(20240611)
    for _ in range(6):
        values = list(base)
        for i in sliders:
            values[i] = rng.uniform(params[i].low, params[i].high)
        got = page.page.evaluate("vals => window.llmarchReport.compute(vals, vals.map(() => 0))", values)
        result = support.cost("production", set={params[i].name: values[i] for i in sliders})
        by_name = {c.name: c for c in result.components}
        assert close(got["monthly_total"], result.monthly_total)
        assert close(got["happy_path_cost_per_request"], result.happy_path_cost_per_request)
        for row in got["rows"]:
            c = by_name[names[row["i"]]]
            assert close(row["monthly"], c.monthly), c.name
            if c.cost_per_request is not None:
                assert close(row["per_request"], c.cost_per_request) and close(row["happy"], c.happy_path_cost_per_request)
        for k, category in enumerate(result.by_category):
            assert close(got["byCat"][k], result.by_category[category])
    page.assert_clean()
    page.page.close()


def test_tornado_and_projection_follow_the_sliders(browser, tmp_path):
    model = llmarch.load(GROWTH)
    path = tmp_path / "growth.html"
    path.write_text(model.report(), encoding="utf-8")
    page = Page(browser, path)
    moved = {"growth": page.slide(index_of(model, "growth"), 0.25),
             "answer_tokens": page.slide(index_of(model, "answer_tokens"), 420)}
    projection = model.project(None, set=moved)
    assert close(page.fig("projection_last")[0], projection.monthly_total[-1])
    names = page.page.locator("[data-t-name]").all_text_contents()
    texts = page.page.locator("[data-t-text]").all_text_contents()
    rows = model.tornado(None, set=moved)
    assert names[:len(rows)] == [r.name for r in rows]
    assert texts[:len(rows)] == [f"{_usd(r.monthly_at_low)} … {_usd(r.monthly_at_high)}" for r in rows]
    page.assert_clean()
    page.page.close()


def test_hostile_labels_are_text(browser, tmp_path, hostile_path):
    model = llmarch.load(hostile_path)
    path = tmp_path / "evil.html"
    path.write_text(model.report("big"), encoding="utf-8")
    page = Page(browser, path)
    assert page.page.get_by_text("<script>alert(1)</script>").first.is_visible()
    assert page.page.locator("h1").inner_text() == "Evil </script><script>alert(2)</script> & <!-- co"
    assert "</script>" in page.page.title()
    page.slide(index_of(model, "hit"), 0.5)      # the page's script still runs
    assert close(page.fig("monthly_total")[0], model.cost("big", set={"hit": 0.5}).monthly_total)
    assert page.dialogs == []
    page.assert_clean()
    page.page.close()


def test_invalid_values_are_flagged(browser, tmp_path):
    source = tmp_path / "split.llmarch"
    source.write_text('architecture "split"\nparam rpd = 100 requests/day\nparam x = 30% in [0, 1]\n'
                      'param y = 30% in [0, 1]\ntraffic = rpd\ntool a { cost = 0.01 USD }\n'
                      'tool b { cost = 0.1 USD }\ntool c { cost = 1 USD }\n'
                      'flow { start -> a\n a -> b (p = x)\n a -> c (p = y) }\n', encoding="utf-8")
    model = llmarch.load(source)
    path = tmp_path / "split.html"
    path.write_text(model.report(), encoding="utf-8")
    page = Page(browser, path)
    banner = page.page.locator("#lm-invalid")
    assert not banner.is_visible()
    page.slide(index_of(model, "x"), 0.8)
    assert banner.is_visible() and "more than 1" in banner.inner_text()
    with pytest.raises(llmarch.LlmarchError):
        model.cost(set={"x": 0.8})                    # Python refuses the same values
    page.slide(index_of(model, "x"), 0.5)
    assert not banner.is_visible()
    assert close(page.fig("monthly_total")[0], model.cost(set={"x": 0.5}).monthly_total)
    page.page.close()


def test_large_report_stays_usable(browser, tmp_path, generate, monkeypatch):
    from llmarch.compiler import render
    monkeypatch.setattr(render, "DOT_PROGRAM", "no-such-dot-program")   # the layout is not under test
    source = tmp_path / "big.llmarch"
    source.write_text(generate(100))
    model = llmarch.load(source)
    path = tmp_path / "big.html"
    path.write_text(model.report("production"), encoding="utf-8")
    page = Page(browser, path)
    moved = {"rejected": page.slide(index_of(model, "rejected"), 0.2),
             "hit_3": page.slide(index_of(model, "hit_3"), 0.7)}
    result = model.cost("production", set=moved)
    assert close(page.fig("monthly_total")[0], result.monthly_total)
    page.page.click("#lm-more summary")                 # the folded rows are brought up to date when shown
    shown = page.page.eval_on_selector_all("#lm-rows-more tr", """rows => rows.map(tr => [
        tr.querySelector('code').textContent, +tr.querySelector('[data-col="monthly"]').getAttribute('data-value')])""")
    by_name = {c.name: c.monthly for c in result.components}
    assert len(shown) == len(by_name) - 50
    assert all(close(value, by_name[name]) for name, value in shown)
    assert [v for _, v in shown] == sorted((v for _, v in shown), reverse=True)
    page.page.fill("#lm-filter", "hit_1")
    visible = page.page.eval_on_selector_all("[data-slider]:not([hidden]) code", "els => els.map(e => e.textContent)")
    assert visible == ["hit_1"]
    page.assert_clean()
    page.page.close()


def test_printed_shapes_evaluate_like_sympy(browser):
    """Pow, Rational, Piecewise, Max/Min, floor/ceiling and log/exp as sympy prints them,
    run by Chromium's JavaScript engine."""
    x, y = sympy.symbols("_p0 _p1", real=True)
    shapes = [x ** 2 * y ** -1, x ** sympy.Rational(3, 2), sympy.sqrt(x) / 7, sympy.Rational(2, 3) * x - y,
              sympy.Piecewise((x / 100, x < 3), (sympy.Rational(3, 100) + (x - 3) / 200, x < 10), (y, True)),
              sympy.Max(x, y, 2), sympy.Min(x, 1) * sympy.floor(y), sympy.ceiling(x / 3), sympy.log(x) + sympy.exp(-y),
              (1 + x) ** (y / 6)]
    page = browser.new_page()
    for vx, vy in ((0.5, 4.25), (2.9, 0.1), (7.0, 3.3), (12.5, 1.0)):
        for expr in shapes:
            got = page.evaluate(f"(() => {{ const _p0 = {vx!r}, _p1 = {vy!r}; return {js_expression(expr)}; }})()")
            expected = float(expr.subs({x: vx, y: vy}).evalf(30))
            assert math.isclose(got, expected, rel_tol=1e-12), (expr, vx, vy, got, expected)
    page.close()
