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


# --- what a reviewer sees: sliders without a range, scenarios, projection, diagram, keyboard -------

def test_a_slider_without_a_declared_range_moves_the_total(browser, support_page, support):
    """`doc_tokens` and `reindex_per_month` declare no range: their sliders run over the
    default span (0 … 2 × the value) and move every figure to Python's value."""
    page = Page(browser, support_page)
    k = index_of(support, "reindex_per_month")
    slider = page.page.locator(f"#lm-p{k}")
    assert (float(slider.get_attribute("min")), float(slider.get_attribute("max"))) == (0.0, 8.6)
    assert "(default span)" in page.page.locator(f'[data-slider="{k}"] .range').inner_text()
    before = page.fig("monthly_total")[0]
    moved = {"reindex_per_month": page.slide(k, 8.0), "doc_tokens": page.slide(index_of(support, "doc_tokens"), 1500)}
    result = support.cost("production", set=moved)
    monthly, text = page.fig("monthly_total")
    assert monthly != before and close(monthly, result.monthly_total) and text == _usd(result.monthly_total)
    page.assert_clean()
    page.page.close()


_SCENARIO_BARS = """() => Array.from(document.querySelectorAll('#lm-scenario-chart [data-scenario]')).map(g => ({
    name: g.querySelector('text').textContent,
    segments: Array.from(g.querySelectorAll('rect')).map(r => [r.getAttribute('data-category'),
                                                               +r.getAttribute('data-value'), +r.getAttribute('width')]),
    total: g.querySelector('[data-total]') && g.querySelector('[data-total]').textContent}))"""


def test_scenario_chart_has_one_bar_per_scenario_with_costs_numbers(browser, support_page, support):
    page = Page(browser, support_page)
    bars = page.page.evaluate(_SCENARIO_BARS)
    names = [None, *support.scenarios]
    assert [b["name"] for b in bars] == ["(defaults)", *support.scenarios]            # file order
    for bar, name in zip(bars, names):
        result = support.cost(name)
        assert [c for c, _, _ in bar["segments"]] == list(result.by_category)
        assert all(close(v, result.by_category[c]) for c, v, _ in bar["segments"])
        assert close(sum(v for _, v, _ in bar["segments"]), result.monthly_total)
        assert bar["total"] == _usd(result.monthly_total)
    # widths share one scale: production's bar is the longest, pilot's a sliver
    width = {b["name"]: sum(w for *_, w in b["segments"]) for b in bars}
    assert max(width, key=width.get) in ("production", "(defaults)") and width["pilot"] < width["production"] / 100
    page.assert_clean()
    page.page.close()


_CHANGES = """() => [Array.from(document.querySelectorAll('#lm-change-totals tr')).map(tr => tr.innerText),
                     Array.from(document.querySelectorAll('#lm-change-params tr')).map(tr => tr.innerText),
                     document.getElementById('lm-change-none').textContent]"""


def test_what_changed_between_two_scenarios(browser, support_page, support):
    from llmarch.compiler import present
    page = Page(browser, support_page)
    written = page.page.evaluate(_CHANGES)        # Python's, for the first and the last scenario
    first, last = list(support.scenarios)[0], list(support.scenarios)[-1]
    assert written[0][0] == f"\t{first}\t{last}\tchange"
    page.page.select_option("#lm-from", label=first)                # the script writes the same text again
    assert page.page.evaluate(_CHANGES) == written
    page.page.select_option("#lm-from", label="internal")
    page.page.select_option("#lm-to", label="rag")
    totals, params, none = page.page.evaluate(_CHANGES)
    a, b = support.cost("internal"), support.cost("rag")
    assert totals[1] == "\t".join(["monthly total", _usd(a.monthly_total), _usd(b.monthly_total),
                                   present.signed_money(b.monthly_total - a.monthly_total)])
    assert totals[2].endswith(present.signed_money(b.cost_per_request - a.cost_per_request, True))
    assert totals[4].startswith("P(success)\t") and totals[4].endswith(" pp")
    differ = [n for n, p in support.compiled.arch.parameters.items()
              if not p.builtin and not math.isclose(a.parameters[n], b.parameters[n], rel_tol=1e-12)]
    assert [row.split("\t")[0] for row in params[1:]] == differ and "rag_share" in differ and none == ""
    page.page.select_option("#lm-to", label="internal")            # a scenario against itself
    totals, params, none = page.page.evaluate(_CHANGES)
    assert len(params) == 1 and none == "No parameter differs." and totals[1].endswith("+$0.00")
    page.assert_clean()
    page.page.close()


def test_projection_stacks_follow_the_sliders_by_vector_and_by_component(browser, tmp_path):
    model = llmarch.load(GROWTH)
    path = tmp_path / "growth.html"
    path.write_text(model.report(), encoding="utf-8")
    page = Page(browser, path)
    assert page.page.locator("#lm-proj-vector").is_visible() and not page.page.locator("#lm-proj-component").is_visible()
    assert page.page.locator("#lm-proj-vector .axis-title").all_text_contents() == [
        "month (the built-in time parameter)", "monthly cost (USD)"]
    moved = {"growth": page.slide(index_of(model, "growth"), 0.25)}
    projection = model.project(None, set=moved)
    stacks = page.page.evaluate("""view => Array.from(document.querySelectorAll('#lm-proj-' + view + ' [data-m]'))
        .map(g => Array.from(g.querySelectorAll('rect')).map(r => +r.getAttribute('data-value')))""", "vector")
    assert len(stacks) == 13
    for m, segments in enumerate(stacks):
        assert close(sum(segments), projection.monthly_total[m])
        assert all(close(v, projection.by_category[m][c]) for v, c in zip(segments, projection.by_category[m]))
    page.page.check("#lm-view-component")                          # no script needed: radio buttons and CSS
    assert page.page.locator("#lm-proj-component").is_visible() and not page.page.locator("#lm-proj-vector").is_visible()
    legend = page.page.locator("#lm-legend-component [data-legend-name]").all_text_contents()
    last = model.cost(None, set={**moved, "time": "12"})
    costliest = sorted(last.components, key=lambda c: (-c.monthly, c.name))
    assert legend == [c.name for c in costliest[:6]] + (["other"] if len(costliest) > 6 else [])
    parts = page.page.evaluate("""() => Array.from(document.querySelectorAll('#lm-proj-component [data-m="12"] rect'))
        .map(r => +r.getAttribute('data-value'))""")
    assert close(sum(parts), projection.monthly_total[12])
    assert all(close(v, c.monthly) for v, c in zip(parts, costliest[:6]))
    page.assert_clean()
    page.page.close()


def test_diagram_fits_and_zooms(browser, support_page):
    page = Page(browser, support_page)
    box = page.page.locator(".diagram")
    size = lambda: page.page.evaluate("""() => { const b = document.querySelector('.diagram'),
        s = b.querySelector('svg').getBoundingClientRect(); return [b.clientWidth, b.clientHeight, b.scrollHeight,
        s.width, s.height]; }""")
    width, height, scroll_height, svg_width, svg_height = size()
    assert svg_width <= width and scroll_height <= height + 1 and svg_height > 600    # whole, not cut off
    page.page.click("#lm-zoom-actual")
    assert page.page.locator("#lm-zoom-level").inner_text() == "100%"
    width, _, _, svg_width, _ = size()
    assert svg_width > width and box.evaluate("b => b.scrollWidth > b.clientWidth")   # the box scrolls
    page.page.click("#lm-zoom-in")
    assert page.page.locator("#lm-zoom-level").inner_text() == "125%"
    page.page.click("#lm-zoom-fit")
    assert size()[3] <= size()[0] and page.page.locator("#lm-zoom-level").inner_text() == "fit"
    page.assert_clean()
    page.page.close()


def test_keyboard_reaches_every_control_with_a_label(browser, support_page, support):
    """Tab goes through the skip link, reset, every slider, the zoom buttons and the diagram,
    the projection's radio buttons and the scenario choosers; each has an accessible name;
    arrow keys move a slider and the figures follow."""
    page = Page(browser, support_page)
    seen = []
    for _ in range(200):                                            # once round the page
        page.page.keyboard.press("Tab")
        stop = page.page.evaluate("""() => { const e = document.activeElement;
            const label = e.labels && e.labels.length ? e.labels[0].textContent : (e.getAttribute('aria-label') || e.textContent);
            return [e.tagName, e.type || '', e.id, label.trim()]; }""")
        if seen and stop == seen[0]:
            break
        seen.append(stop)
    ids = [s[2] for s in seen]
    sliders = [s for s in seen if s[1] == "range"]
    assert ids[0] == "" and seen[0][3].startswith("Skip the sliders")
    assert "lm-reset" in ids and len(sliders) == sum(1 for p in support.compiled.arch.parameters.values()
                                                     if not p.builtin and p.name in support.compiled.evaluator.used_parameters)
    assert all(s[3] for s in seen), [s for s in seen if not s[3]]           # every stop has a name
    for wanted in ("lm-zoom-out", "lm-zoom-in", "lm-zoom-fit", "lm-zoom-actual", "lm-view-vector", "lm-from", "lm-to"):
        assert wanted in ids, wanted
    assert ids.index("lm-reset") < ids.index(sliders[0][2]) < ids.index("lm-zoom-in") < ids.index("lm-from")
    # arrow keys on a focused slider
    k = index_of(support, "cache_hit")
    page.page.focus(f"#lm-p{k}")
    for _ in range(5):
        page.page.keyboard.press("ArrowRight")
    value = float(page.page.locator(f"#lm-p{k}").input_value())
    assert value > 0.2
    assert close(page.fig("monthly_total")[0], support.cost("production", set={"cache_hit": value}).monthly_total)
    page.page.focus("#lm-view-vector")
    page.page.keyboard.press("ArrowRight")                          # radio group: the other view
    assert page.page.locator("#lm-view-component").is_checked()
    page.assert_clean()
    page.page.close()


@pytest.mark.parametrize("width, height", [(1366, 768), (390, 844)])
def test_laptop_and_narrow_widths(browser, support_page, tmp_path, width, height):
    """At a laptop's width and a phone's, the page scrolls only vertically (wide tables and
    charts scroll in their own box), and a screenshot can be taken of it."""
    page = browser.new_page(viewport={"width": width, "height": height})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.goto(support_page.as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot = tmp_path / f"report-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000 and errors == []
    page.close()


def test_uncertainty_histogram_and_budget_in_the_browser(browser, support_page, support):
    """The support example's production scenario is uncertain: the page shows the monthly
    total's histogram (one bar per bin, their heights in proportion to simulate's samples),
    the p5/p50/p95 lines at simulate's values and the budget line, all laid out and visible."""
    import numpy as np

    from llmarch.compiler.report.uncertainty import HISTOGRAM_BINS
    page = Page(browser, support_page)
    histogram = page.page.locator("#lm-histogram")
    assert histogram.is_visible() and histogram.bounding_box()["width"] > 300
    bins = page.page.locator("#lm-histogram rect.bin")
    assert bins.count() == HISTOGRAM_BINS
    heights = [float(bins.nth(k).get_attribute("height")) for k in range(HISTOGRAM_BINS)]
    samples = support.simulate("production", components=False).figures["monthly_total"].raw
    budget = 8000.0
    counts, _ = np.histogram(samples, bins=HISTOGRAM_BINS, range=(min(samples.min(), budget), max(samples.max(), budget)))
    assert np.allclose(np.array(heights) / max(heights), counts / counts.max(), atol=0.01)
    line = page.page.locator("#lm-hist-budget")            # a vertical line: zero width, so check where it is
    assert line.count() == 1 and 0 < float(line.get_attribute("x1")) < 640
    labels = page.page.locator("#lm-histogram text").all_text_contents()
    total = support.simulate("production", components=False).figures["monthly_total"]
    assert f"p95 ${total.p95:,.0f}" in labels and f"p5 ${total.p5:,.0f}" in labels
    assert page.page.locator("#lm-risk-budgets li").count() == 4
    assert page.page.locator("#lm-sobol tbody tr").count() == 11
    page.assert_clean()
    page.page.close()


def test_uncertainty_fan_chart_over_time(browser, tmp_path):
    """A file that grows with `time` and has an uncertain growth rate: the projection's fan
    (the p5-p95 band and the median line) is drawn, widening month by month."""
    text = GROWTH.read_text(encoding="utf-8")
    old = 'param growth = 15% in [0, 0.3] "monthly user growth"'
    assert old in text
    path = tmp_path / "growth.llmarch"
    path.write_text(text.replace(old, 'param growth = 8% to 25% in [0, 0.3] "monthly user growth"'), encoding="utf-8")
    model = llmarch.load(path, cache=False)
    html_path = tmp_path / "growth.html"
    html_path.write_text(model.report(), encoding="utf-8")
    page = Page(browser, html_path)
    band, median = page.page.locator("#lm-fan-band"), page.page.locator("#lm-fan-median")
    assert band.is_visible() and median.is_visible()
    points = [tuple(map(float, p.split(","))) for p in band.get_attribute("points").split()]
    months = len(points) // 2
    upper, lower = points[:months], points[months:][::-1]
    widths = [lo[1] - hi[1] for hi, lo in zip(upper, lower)]       # SVG y grows downwards
    assert widths[0] == pytest.approx(0, abs=0.2) and widths[-1] > widths[len(widths) // 2] > widths[1]
    assert page.page.locator("#lm-no-spread").is_visible()          # at month 0 the guess moves nothing
    page.assert_clean()
    page.page.close()


def test_a_latency_budget_follows_the_sliders(browser, tmp_path):
    """The report recomputes a request's expected latency for a `budget latency < …` and flags
    an output speed of 0 as Python does (E423)."""
    source = tmp_path / "timed.llmarch"
    source.write_text('architecture "timed"\ntraffic = 100 requests/day\n'
                      'param lookup = 200 ms in [0, 2000]\nparam speed = 80 tokens/s in [0, 200]\n'
                      'model m { input = 1 USD/Mtok; output = 2 USD/Mtok; ttft = 400 ms; tokens_per_second = speed }\n'
                      'tool search { cost = 0.001 USD; latency = lookup }\n'
                      'llm answer { model = m; input = 100 tokens; output = 80 tokens }\n'
                      'flow { start -> search -> answer }\nbudget latency < 2 s\n', encoding="utf-8")
    model = llmarch.load(source)
    path = tmp_path / "timed.html"
    path.write_text(model.report(), encoding="utf-8")
    page = Page(browser, path)
    row = page.page.locator('tr[data-b="0"]')
    assert "1.6 s" in row.locator('[data-col="value"]').inner_text()
    assert row.locator('[data-col="verdict"]').inner_text() == "holds"
    page.slide(index_of(model, "lookup"), 1000)
    assert model.cost(set={"lookup": 1000}).latency_per_request == pytest.approx(2.4)
    assert "2.4 s" in row.locator('[data-col="value"]').inner_text()
    assert row.locator('[data-col="verdict"]').inner_text() == "does not hold"
    banner = page.page.locator("#lm-invalid")
    page.slide(index_of(model, "speed"), 0)
    assert banner.is_visible() and "more than 0" in banner.inner_text()
    page.assert_clean()
    page.page.close()


# --- latency and capacity ----------------------------------------------------------------------

_ROW_TEXTS = """els => els.map(tr => [tr.getAttribute('class') || '',
                                 Array.from(tr.querySelectorAll('td')).map(td => td.textContent)])"""


def _python_rows(html: str, attribute: str) -> list:
    """The rows Python writes for the same values: (class, cell texts)."""
    import html as html_module
    import re
    rows = []
    for match in re.finditer(rf'<tr {attribute}="\d+"( class="(\w+)")?>(.*?)</tr>', html):
        cells = [html_module.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", match.group(3))]
        rows.append([match.group(2) or "", cells])
    return rows


def test_capacity_and_latency_follow_the_sliders(browser, support_page, support):
    """The traffic slider moves the limits table, the binding limit and the requests in flight
    to what `Capacity` gives, written exactly as Python writes them; the failure and token
    sliders move the amounts per request and the latency."""
    from llmarch.compiler.report.capacity import binding_sentence

    page = Page(browser, support_page)
    moved: dict[str, float] = {}
    for name, value in (("tickets_per_day", 2500), ("call_failure", 0.2), ("summary_tokens", 600),
                        ("tickets_per_day", 900)):
        moved[name] = page.slide(index_of(support, name), value)
        capacity = support.capacity("production", set=moved)
        expected = capacity.to_dict()
        result = support.cost("production", set=moved)
        python = support.report("production", set=moved)
        shown = page.page.eval_on_selector_all("tr[data-lim]", _ROW_TEXTS)
        assert shown == _python_rows(python, "data-lim"), name
        assert page.page.eval_on_selector_all("tr[data-fl]", _ROW_TEXTS) == _python_rows(python, "data-fl"), name
        for k, row in enumerate(expected["limits"]):
            for col, key in (("per_request", "per_request"), ("mean", "mean_demand"), ("peak", "peak_demand"),
                             ("use", "peak_utilisation"), ("headroom", "headroom"),
                             ("throttled", "throttled_share")):
                value = float(page.page.locator(f'tr[data-lim="{k}"] [data-col="{col}"]').get_attribute("data-value"))
                assert close(value, row[key]), (name, row["model"], row["limit"], col, value, row[key])
        binding, text = page.fig("binding")
        assert close(binding, capacity.binding.binds_at) and text == binding_sentence(capacity)
        assert close(page.fig("traffic_peak")[0], capacity.peak_traffic)
        for fig, value in (("latency_per_request", result.latency_per_request),
                           ("happy_path_latency_per_request", result.happy_path_latency_per_request),
                           ("latency_std_dev", result.latency_std_dev),
                           ("happy_path_latency_std_dev", result.happy_path_latency_std_dev)):
            assert close(page.fig(fig)[0], value), (name, fig)
    # 2,500 tickets a day put GPT-4's tokens a minute over its limit at the peak: the row is marked
    page.slide(index_of(support, "tickets_per_day"), 2500)
    assert page.page.locator('tr[data-lim="1"]').get_attribute("class") == "bad"
    # the router sends half the tickets to GPT-4o: `summarize_small`, which took no time, gets a bar
    moved["tickets_per_day"] = 2500
    moved["small_share"] = page.slide(index_of(support, "small_share"), 0.5)
    result = support.cost("production", set=moved)
    longest = sorted((c for c in result.components if c.latency_per_request),
                     key=lambda c: (-c.latency_per_request, c.name))
    shown = [n for n in page.page.locator("[data-l-name]").all_text_contents() if n]
    assert "summarize_small" in shown and shown == [c.name for c in longest]
    page.assert_clean()
    page.page.close()


def test_capacity_at_random_settings(browser, support_page, support):
    """The page's model gives every limit's amount per request, demand and binding traffic,
    every component's seconds per request and the latency's standard deviation as Python does."""
    page = Page(browser, support_page)
    arch = support.compiled.arch
    params = list(arch.parameters.values())
    sliders = [i for i, p in enumerate(params) if p.low is not None and p.high is not None and not p.builtin]
    base = page.page.evaluate("window.llmarchReport.values()")
    names = [r.key for r in support.compiled.evaluator._rows]
    rng = random.Random(1313)
    for _ in range(6):
        values = list(base)
        for i in sliders:
            values[i] = rng.uniform(params[i].low, params[i].high)
        got = page.page.evaluate("vals => window.llmarchReport.compute(vals, vals.map(() => 0))", values)
        sets = {params[i].name: values[i] for i in sliders}
        capacity = support.capacity("production", set=sets)
        result = support.cost("production", set=sets)
        assert close(got["capacity"]["traffic"], capacity.traffic)
        for x, row in zip(got["capacity"]["limits"], capacity.limits):
            for key in ("per_request", "value", "mean_demand", "peak_demand", "headroom", "throttled_share", "binds_at"):
                expected = getattr(row, key)
                assert (x[key] is None) if expected is None else close(x[key], expected), (row.model, row.limit, key)
        assert close(got["latency"], result.latency_per_request)
        assert close(got["latency_std_dev"], result.latency_std_dev)
        assert close(got["happy_latency_std_dev"], result.happy_path_latency_std_dev)
        by_name = {c.name: c for c in result.components}
        for row in got["rows"][:len(names)]:
            c = by_name[names[row["i"]]]
            assert close(row["latency"], c.latency_per_request), c.name
            assert close(row["happy_latency"], c.happy_path_latency_per_request), c.name
    page.assert_clean()
    page.page.close()
