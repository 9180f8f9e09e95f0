"""`llmarch watch`: the server's answers, rebuilding on a change of the file or of an
import, the diagnostics page (the CLI's text, escaped), where it listens, and the command
(address printed, Ctrl-C exits 0). The browser side is tests/report/test_watch_browser.py.

No test waits on the clock: each calls `Watch.poll()` itself after an edit."""

from __future__ import annotations

import html
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import llmarch
from llmarch import api
from llmarch.cli import EXIT_OK, EXIT_USAGE, main

# 100 requests a day, one tool at 0.01 USD: 3,000 requests a month (30-day months), $30.00
BOT = 'architecture "watched bot"\ntraffic = 100 requests/day\ntool t { cost = 0.01 USD }\nflow { start -> t }\n'
# a price sheet imported by the architecture: 0.02 USD a call, 3,000 calls, $60.00
PRICES = "param unit = 0.02 USD\n"
WITH_IMPORT = ('import "prices.llmarch"\ntraffic = 100 requests/day\ntool t { cost = unit }\n'
               'flow { start -> t }\n')
HOSTILE_BROKEN = 'traffic = 100 requests/day\ntool t "<img src=x onerror=alert(1)>" { cost = </script> }\n'


def get(watch, path: str = "/", host: str | None = None, method: str = "GET") -> tuple[int, str, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", watch.port, timeout=10)
    headers = {"Host": host} if host is not None else {}
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    body = response.read().decode("utf-8")
    connection.close()
    return response.status, body, dict(response.getheaders())


def monthly_total(page: str) -> float:
    return float(re.search(r'data-fig="monthly_total" data-value="([^"]+)"', page).group(1))


@pytest.fixture
def bot(tmp_path) -> Path:
    path = tmp_path / "bot.llmarch"
    path.write_text(BOT, encoding="utf-8")
    return path


@pytest.fixture
def watching(bot):
    with api.watch(bot) as watch:
        yield watch


def test_serves_the_report_and_its_version(watching, bot):
    assert watching.url == f"http://127.0.0.1:{watching.port}/" and watching.port > 0
    assert watching._server.server_address[0] == "127.0.0.1"
    status, page, headers = get(watching)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-store"
    assert monthly_total(page) == 30.0 == llmarch.load(bot, cache=False).cost().monthly_total
    # the same report `llmarch report` writes, with the reload script and `connect-src 'self'`
    assert "<h1>watched bot</h1>" in page
    assert f'<script id="llmarch-watch" data-version="{watching.version}">' in page
    assert "connect-src &#x27;self&#x27;" in page
    assert llmarch.load(bot, cache=False).report().count("<script") == page.count("<script") - 1
    assert get(watching, "/version")[:2] == (200, watching.version)
    assert re.fullmatch(r"[0-9a-f]{16}", watching.version)
    assert watching.files == [str(bot)]


def test_an_edit_rebuilds_and_the_same_text_does_not(watching, bot):
    first = watching.version
    assert watching.poll() is False
    bot.write_text(BOT.replace("0.01 USD", "0.02 USD"), encoding="utf-8")
    assert watching.poll() is True
    assert watching.version != first and get(watching, "/version")[1] == watching.version
    assert monthly_total(get(watching)[1]) == 60.0
    bot.write_text(BOT.replace("0.01 USD", "0.02 USD"), encoding="utf-8")   # saved again, same text
    assert watching.poll() is False
    bot.write_text(BOT, encoding="utf-8")       # back: the first version again (a hash of the input)
    assert watching.poll() is True and watching.version == first


def test_a_broken_file_shows_the_diagnostics_escaped_then_the_report_returns(watching, bot, capsys):
    bot.write_text(HOSTILE_BROKEN, encoding="utf-8")
    assert watching.poll() is True
    status, page, _ = get(watching)
    assert status == 200 and "data-fig" not in page
    # the text `llmarch check` prints, escaped: code, message, source line, caret, help
    assert main(["check", str(bot)]) == 1
    printed = capsys.readouterr().err
    diagnostics = printed[:printed.rindex("\n\n1 error")]
    assert "error[E" in diagnostics and " | " in diagnostics and "^" in diagnostics and "help:" in diagnostics
    shown = re.search(r'<pre id="lm-diagnostics">(.*?)</pre>', page, re.DOTALL).group(1)
    assert html.unescape(shown) == diagnostics
    assert "&lt;/script&gt;" in shown and "<img" not in page and page.count("<script") == 1
    assert ">1 error · llmarch watch" in page
    bot.write_text(BOT, encoding="utf-8")
    assert watching.poll() is True
    assert monthly_total(get(watching)[1]) == 30.0


def test_an_import_is_watched(tmp_path):
    (tmp_path / "prices.llmarch").write_text(PRICES, encoding="utf-8")
    main_file = tmp_path / "bot.llmarch"
    main_file.write_text(WITH_IMPORT, encoding="utf-8")
    with api.watch(main_file) as watch:
        assert watch.files == sorted([str(main_file), str(tmp_path / "prices.llmarch")])
        assert monthly_total(get(watch)[1]) == 60.0
        (tmp_path / "prices.llmarch").write_text(PRICES.replace("0.02", "0.03"), encoding="utf-8")
        assert watch.poll() is True
        assert monthly_total(get(watch)[1]) == pytest.approx(90.0)
        (tmp_path / "prices.llmarch").unlink()      # a missing import: its diagnostic, still watched
        assert watch.poll() is True
        page = get(watch)[1]
        assert "error[E010]" in page and "prices.llmarch" in page
        (tmp_path / "prices.llmarch").write_text(PRICES, encoding="utf-8")
        assert watch.poll() is True and monthly_total(get(watch)[1]) == 60.0


def test_the_standard_library_is_watched_only_in_the_same_repository(tmp_path):
    source = 'import rag\ntraffic = 100 requests/day\ntool t { cost = 0.01 USD }\nflow { start -> t }\n'
    outside = tmp_path / "outside.llmarch"      # not in llmarch's checkout: the stdlib is not watched
    outside.write_text(source, encoding="utf-8")
    with api.watch(outside) as watch:
        assert watch.files == [str(outside)]
    import llmarch.stdlib
    stdlib = Path(llmarch.stdlib.__file__).resolve().parent
    from llmarch.watch import _repository
    if _repository(stdlib) is None:     # pragma: no cover - an installed (not editable) llmarch
        pytest.skip("llmarch is not installed from a git checkout")
    import shutil
    import tempfile
    (_repository(stdlib) / "build").mkdir(exist_ok=True)    # ignored by git
    folder = Path(tempfile.mkdtemp(prefix="watch-test-", dir=_repository(stdlib) / "build"))
    try:
        inside = folder / "inside.llmarch"
        inside.write_text(source, encoding="utf-8")
        with api.watch(inside) as watch:
            assert str(stdlib / "rag.llmarch") in watch.files and str(inside) in watch.files
    finally:
        shutil.rmtree(folder)


def test_only_local_names_root_and_version(watching):
    assert get(watching, host="attacker.example")[0] == 403       # DNS rebinding
    assert get(watching, host=f"localhost:{watching.port}")[0] == 200
    assert get(watching, "/etc/passwd")[0] == 404
    assert get(watching, "/?x=1")[0] == 200
    assert get(watching, method="POST")[0] == 501
    status, body, headers = get(watching, "/version", method="HEAD")
    assert status == 200 and body == "" and headers["Content-Length"] == "16"


def test_a_port_in_use_or_out_of_range_is_a_usage_error(bot, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(llmarch.LlmarchError) as info:
            api.watch(bot, port=port)
        assert info.value.diagnostics[0].code == "E600"
        assert main(["watch", str(bot), "--port", str(port)]) == EXIT_USAGE
        assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert main(["watch", str(bot), "--port", "70000"]) == EXIT_USAGE
    assert "the port must be a number from 0 to 65535, got 70000" in capsys.readouterr().err


def test_a_scenario_and_overrides(tmp_path):
    path = tmp_path / "bot.llmarch"
    path.write_text(BOT.replace("traffic = 100 requests/day", "param rpd = 100 requests/day\ntraffic = rpd")
                    + "scenario big { rpd = 200 requests/day }\n", encoding="utf-8")
    with api.watch(path, scenario="big") as watch:
        assert monthly_total(get(watch)[1]) == 60.0
    with api.watch(path, set={"rpd": "300 requests/day"}) as watch:
        assert monthly_total(get(watch)[1]) == 90.0
    with api.watch(path, scenario="nope") as watch:   # shown in the page: the file may be getting it
        assert "error[E6" in get(watch)[1] and "nope" in get(watch)[1]


def test_open_browser(bot, monkeypatch):
    opened = []
    import webbrowser
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url))
    with api.watch(bot, open_browser=True) as watch:
        assert opened == [watch.url]


def test_background_polling_and_close_frees_the_port(bot):
    watch = api.watch(bot).start()
    port = watch.port
    watch.close()
    with socket.socket() as again:      # the port is free again
        again.bind(("127.0.0.1", port))


def test_the_command_prints_the_address_and_ctrl_c_exits_0(bot):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "llmarch", "watch", str(bot), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=bot.parent)
    try:
        line = process.stdout.readline()
        match = re.fullmatch(r"serving the report of (.+) at http://127\.0\.0\.1:(\d+)/ \(Ctrl-C stops\)\n", line)
        assert match and match.group(1) == str(bot), line
        connection = http.client.HTTPConnection("127.0.0.1", int(match.group(2)), timeout=10)
        connection.request("GET", "/")
        assert connection.getresponse().status == 200
        connection.close()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:      # pragma: no cover - only when the test failed
            process.kill()
            process.wait()
    assert process.returncode == EXIT_OK
    assert "Traceback" not in err and err.endswith(f"{bot}: $30.00 a month\n"), err


def test_help_has_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["watch", "--help"])
    out = capsys.readouterr().out
    assert "examples:\n  llmarch watch " in out and "--port" in out and "--open" in out
