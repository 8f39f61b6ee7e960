"""--serve (the web extra) and --replay on the command line, without a browser or terminal."""

from __future__ import annotations

import os
import shlex
import sys

import pytest

from micrograd import checkpoint
from micrograd.train import TrainConfig, Trainer
from tui import cli


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        status = cli.main(argv)
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return status, out, err


def test_serve_without_the_web_extra_is_one_line_and_status_2(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "textual_serve", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    status, out, err = run(["--serve"], capsys)
    assert status == 2 and out == ""
    assert (
        err == "microgradtui: error: --serve needs textual-serve: pip install 'microgradtui[web]'\n"
    )


def test_serve_refuses_headless(capsys):
    status, _, err = run(["--serve", "--headless"], capsys)
    assert status == 2 and "cannot be used together" in err and len(err.splitlines()) == 1


class FakeServer:
    def __init__(self, command: str, host: str, port: int, title: str) -> None:
        self.command, self.host, self.port, self.title = command, host, port, title


def test_the_server_runs_the_app_with_the_other_options_on_localhost():
    argv = ["--serve", "--dataset", "xor", "--port=9001", "--hidden", "8,8"]
    args = cli.build_parser().parse_args(argv)
    server = cli.build_server(args, argv, FakeServer)
    assert server.host == "127.0.0.1" and server.port == 9001 and server.title == "microgradtui"
    assert shlex.split(server.command) == [
        sys.executable, "-m", "tui", "--dataset", "xor", "--hidden", "8,8",
    ]  # fmt: skip
    argv = ["--host", "0.0.0.0", "--serve", "--port", "8123", "--paused"]
    args = cli.build_parser().parse_args(argv)
    server = cli.build_server(args, argv, FakeServer)
    assert (server.host, server.port) == ("0.0.0.0", 8123)
    assert shlex.split(server.command)[3:] == ["--paused"]


def test_a_real_textual_serve_server_is_built_without_starting():
    if os.environ.get("CI"):  # CI installs the dev extra, which includes web: never skip there
        import textual_serve.server as server_module
    else:
        server_module = pytest.importorskip("textual_serve.server")
    argv = ["--serve", "--port", "8765"]
    server = cli.build_server(cli.build_parser().parse_args(argv), argv, server_module.Server)
    assert server.host == "127.0.0.1" and server.port == 8765
    assert server.public_url == "http://127.0.0.1:8765"
    assert server.command.endswith("-m tui")


def test_the_app_under_textual_serve_needs_no_tty(monkeypatch):
    monkeypatch.setenv("TEXTUAL_DRIVER", "textual.drivers.web_driver:WebDriver")
    assert cli._has_terminal()


def test_replay_refuses_a_bad_file_and_contradicting_options(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    status, _, err = run(["--replay", str(bad)], capsys)
    assert status == 2 and err.startswith(f"microgradtui: error: --replay: {bad}: not valid JSON")
    good = tmp_path / "run.json"
    trainer = Trainer(TrainConfig(samples=20, hidden=(2,)))
    trainer.step()
    checkpoint.save(trainer, good)
    status, _, err = run(["--replay", str(good), "--headless"], capsys)
    assert status == 2 and "leave out --headless" in err
    status, _, err = run(["--replay", str(good)], capsys)  # pytest's stdout is no terminal
    assert status == 2 and "no terminal" in err


async def test_served_page_points_the_browser_at_the_address_it_used():
    """Before: with --host 0.0.0.0 the page said ws://0.0.0.0:8000/ws (unreachable elsewhere)."""
    from aiohttp.test_utils import TestClient, TestServer

    from tui.serve import BrowserAddressServer

    server = BrowserAddressServer("true", host="0.0.0.0", port=8000)
    async with TestClient(TestServer(await server._make_app())) as client:
        page = await (await client.get("/", headers={"Host": "192.0.2.7:8000"})).text()
        assert 'data-session-websocket-url="ws://192.0.2.7:8000/ws"' in page
        assert "0.0.0.0" not in page
        bad = await (await client.get("/", headers={"Host": 'x"><b id=pwn>'})).text()
        assert "pwn" not in bad and "ws://0.0.0.0:8000/ws" in bad  # not a host: the default
    fixed = BrowserAddressServer("true", host="0.0.0.0", public_url="https://example.org")
    async with TestClient(TestServer(await fixed._make_app())) as client:
        page = await (await client.get("/", headers={"Host": "192.0.2.7:8000"})).text()
        assert 'data-session-websocket-url="wss://example.org/ws"' in page


def test_serve_uses_the_server_that_follows_the_browser(monkeypatch):
    from tui import cli
    from tui.serve import BrowserAddressServer

    used = []
    monkeypatch.setattr(BrowserAddressServer, "serve", lambda self: used.append(self))
    assert cli.main(["--serve", "--host", "0.0.0.0"]) == 0
    assert isinstance(used[0], BrowserAddressServer) and used[0].host == "0.0.0.0"
