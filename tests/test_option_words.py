"""Messages name the options in the words the caller wrote: the Python API's keywords
(`set`, `grids`, `drivers`, `months`, `low`/`high`, `at_month`) through `llmarch.load(...)`,
the command's flags (`--set`, `--grid`, …) through `llmarch …`. The same error, both ways."""

from __future__ import annotations

from pathlib import Path

import pytest

import llmarch
from llmarch import api  # noqa: F401 (llmarch.api.command_words below)
from llmarch.cli import EXIT_INVALID, EXIT_USAGE, main

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = "examples/quickstart.llmarch"
GROWTH = "examples/growth_story.llmarch"

#: (the API call, the command's arguments, what the API says, what the command says)
CASES = [
    (lambda m: m.cost(set={"nope": 3}), ["cost", QUICKSTART, "--set", "nope=3"],
     "unknown parameter `nope` in `set`", "unknown parameter `nope` in --set"),
    (lambda m: m.cost(set={"hit_rate": "2 * x"}), ["cost", QUICKSTART, "--set", "hit_rate=2 * x"],
     "cannot read override `hit_rate=2 * x`: ", "cannot read --set hit_rate=2 * x: "),
    (lambda m: m.cost(set={"hit_rate": "150%"}), ["cost", QUICKSTART, "--set", "hit_rate=150%"],
     "must be between 0 and 1 (with overrides hit_rate=150%)", "must be between 0 and 1 (with --set hit_rate=150%)"),
    (lambda m: m.sweep([llmarch.api.parse_grid("hit_rate=0:1")]), ["sweep", QUICKSTART, "--grid", "hit_rate=0:1"],
     "cannot read grid `hit_rate=0:1`", "cannot read --grid `hit_rate=0:1`"),
    (lambda m: m.sweep([llmarch.api.parse_grid("hit_rate=0:1:0")]), ["sweep", QUICKSTART, "--grid", "hit_rate=0:1:0"],
     "grid `hit_rate=0:1:0` needs at least one point", "--grid `hit_rate=0:1:0` needs at least one point"),
    (lambda m: m.sweep([llmarch.api.parse_grid("nope=0:1:2")]), ["sweep", QUICKSTART, "--grid", "nope=0:1:2"],
     "unknown parameter `nope` in `grids`", "unknown parameter `nope` in --grid"),
    (lambda m: m.sweep([llmarch.api.parse_grid("hit_rate=0:1:2")] * 2),
     ["sweep", QUICKSTART, "--grid", "hit_rate=0:1:2", "--grid", "hit_rate=0:1:2"],
     "a parameter appears in two grids", "a parameter appears in two --grid options"),
    (lambda m: m.project(months=5000), ["project", QUICKSTART, "--months", "5000"],
     "`months` must be between 0 and 1200", "--months must be between 0 and 1200"),
    (lambda m: m.project(drivers=["zz"]), ["project", QUICKSTART, "--driver", "zz"],
     "unknown parameter `zz` in `drivers`", "unknown parameter `zz` in --driver"),
    (lambda m: m.solve("hit_rate", 1e9), ["solve", QUICKSTART, "--for", "hit_rate", "--monthly", "1e9"],
     "help: widen the range with `low`/`high`, or aim", "help: widen the range with --low/--high, or aim"),
    (lambda m: m.solve("hit_rate", 100, low=0.5, high=0.1),
     ["solve", QUICKSTART, "--for", "hit_rate", "--monthly", "100", "--low", "0.5", "--high", "0.1"],
     "help: give `low` and `high` with low < high", "help: give --low and --high with low < high"),
    (lambda m: m.sensitivity(at_month=-1), ["sensitivity", QUICKSTART, "--at-month", "-1"],
     "`at_month` must be a number of months from 0 to 1200, got -1",
     "--at-month must be a number of months from 0 to 1200, got -1"),
]


@pytest.fixture(autouse=True)
def _at_the_root(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LLMARCH_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.parametrize("call, argv, api_words, command_words", CASES, ids=[" ".join(c[1][:1] + c[1][2:4])
                                                                               for c in CASES])
def test_the_api_speaks_of_its_keywords_and_the_command_of_its_flags(call, argv, api_words, command_words, capsys):
    for model in (llmarch.load(argv[1]), llmarch.load(argv[1])):    # fresh, then from the compile cache
        with pytest.raises(llmarch.LlmarchError) as err:
            call(model)
        said = err.value.render()
        assert api_words in said and "--" not in said
        with llmarch.api.command_words():                            # what the command runs in
            with pytest.raises(llmarch.LlmarchError) as err:
                call(model)
        assert command_words in err.value.render()
    assert main(argv) in (EXIT_USAGE, EXIT_INVALID)
    err = capsys.readouterr().err
    assert command_words in err


def test_a_number_that_is_not_finite():
    for cached in (False, True):
        model = llmarch.load(QUICKSTART)
        assert (model._numeric is not None) == cached
        with pytest.raises(llmarch.LlmarchError, match=r"^error\[E600\]: override `hit_rate`: nan is not a finite"):
            model.cost(set={"hit_rate": float("nan")})
        with llmarch.api.command_words(), pytest.raises(llmarch.LlmarchError, match=r"--set hit_rate: nan is not"):
            model.cost(set={"hit_rate": float("nan")})


def test_the_words_are_the_api_s_again_after_the_block():
    model = llmarch.load(QUICKSTART)
    with llmarch.api.command_words():
        pass
    with pytest.raises(llmarch.LlmarchError, match="in `set`"):
        model.cost(set={"nope": 1})
    with pytest.raises(ValueError), llmarch.api.command_words():
        raise ValueError   # an exception inside the block restores the API's words too
    with pytest.raises(llmarch.LlmarchError, match="in `set`"):
        model.cost(set={"nope": 1})


def test_the_report_and_the_sensitivity_note(capsys):
    model = llmarch.load(QUICKSTART)
    assert "with overrides <code>hit_rate=0.5</code>" in model.report(set={"hit_rate": 0.5})
    assert main(["report", QUICKSTART, "--set", "hit_rate=0.5"]) == 0
    assert "with <code>--set hit_rate=0.5</code>" in capsys.readouterr().out
    growth = llmarch.load(GROWTH)
    text = llmarch.api.format_sensitivity(growth.sensitivity(), growth.title, uses_time=growth.uses_time)
    assert "see at_month=12" in text
    assert main(["sensitivity", GROWTH]) == 0
    assert "see --at-month 12" in capsys.readouterr().out
