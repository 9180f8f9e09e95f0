"""`llmarch init [FILE]`: a commented starter file that passes check, cost and lint, and
never overwrites a file."""

from llmarch.cli import EXIT_OK, EXIT_USAGE, main


def test_starter_checks_costs_and_lints(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == EXIT_OK
    written = tmp_path / "architecture.llmarch"
    assert written.read_text(encoding="utf-8").startswith("# A starter architecture")
    assert "wrote architecture.llmarch" in capsys.readouterr().err
    assert main(["check", "architecture.llmarch"]) == EXIT_OK
    assert main(["cost", "architecture.llmarch"]) == EXIT_OK
    assert main(["cost", "architecture.llmarch", "--scenario", "launch"]) == EXIT_OK
    assert main(["lint", "architecture.llmarch"]) == EXIT_OK
    assert "monthly total" in capsys.readouterr().out


def test_named_file_and_no_overwrite(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init", "bot.llmarch"]) == EXIT_OK
    (tmp_path / "bot.llmarch").write_text("mine\n")
    capsys.readouterr()
    assert main(["init", "bot.llmarch"]) == EXIT_USAGE
    assert "`bot.llmarch` already exists" in capsys.readouterr().err
    assert (tmp_path / "bot.llmarch").read_text() == "mine\n"
    assert main(["init", str(tmp_path / "missing" / "x.llmarch")]) == EXIT_USAGE
    assert "cannot write" in capsys.readouterr().err
