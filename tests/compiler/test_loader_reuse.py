"""The loader keeps the parse of an imported file while its text is the same (the language
server compiles on every edit): the tree is reused, its text still reaches the diagnostics,
and a changed import is parsed again."""

from __future__ import annotations

import pytest

from llmarch.compiler.loader import load_modules
from llmarch.dsl.diagnostics import LlmarchError


def test_an_unchanged_import_is_parsed_once_and_a_changed_one_again(tmp_path):
    shared = tmp_path / "shared.llmarch"
    shared.write_text('param daily = 100 requests/day "requests a day"\n', encoding="utf-8")
    main = tmp_path / "main.llmarch"
    main.write_text('architecture "m"\nimport "shared.llmarch"\nimport rag\ntraffic = daily\n', encoding="utf-8")

    first, first_sources = load_modules(main)
    second, second_sources = load_modules(main)
    assert [m.path for m in first] == [m.path for m in second]
    assert first[0] is not second[0]                      # the main file: parsed every time
    assert all(a is b for a, b in zip(first[1:], second[1:]))   # its imports: the same trees
    for module in second:                                 # and every text is known to the diagnostics
        assert second_sources.line(module.path, 1) == first_sources.line(module.path, 1) is not None

    shared.write_text('param daily = 200 requests/day "requests a day"\n', encoding="utf-8")
    third, _ = load_modules(main)
    changed = next(m for m in third if m.path.endswith("shared.llmarch"))
    assert changed is not next(m for m in second if m.path.endswith("shared.llmarch"))
    assert changed.statements[0].value.value == "200"


def test_an_error_in_a_reused_import_still_quotes_its_line(tmp_path):
    shared = tmp_path / "shared.llmarch"
    shared.write_text("param rate = 10%\nparam rate = 20%\n", encoding="utf-8")
    main = tmp_path / "main.llmarch"
    main.write_text('architecture "m"\nimport "shared.llmarch"\ntraffic = 1 requests/day\n', encoding="utf-8")
    import llmarch
    rendered = []
    for _ in range(2):   # the second compile reuses the import's tree
        with pytest.raises(LlmarchError) as error:
            llmarch.load(main)
        rendered.append(str(error.value))
    assert rendered[0] == rendered[1]
    assert "E101" in rendered[1] and "param rate = 20%" in rendered[1]


def test_loads_says_when_a_text_is_checked_before_it_builds_the_cost_model():
    """`loads(text, checked=…)` calls `checked()` once for a text that compiles (the
    language server publishes then), never for one with a diagnostic."""
    import llmarch
    calls = []
    good = ('architecture "c"\nparam n = 10 requests/day\ntraffic = n\n'
            'tool db { cost = 0.001 USD/call }\nflow { start -> db }\n')
    model = llmarch.loads(good, checked=lambda: calls.append("checked"))
    assert calls == ["checked"] and model.cost().monthly_total > 0
    with pytest.raises(LlmarchError):
        llmarch.loads(good.replace("traffic = n", "traffic = m"), checked=lambda: calls.append("broken"))
    assert calls == ["checked"]
