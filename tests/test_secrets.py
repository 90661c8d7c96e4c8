"""Configured secrets never reach output or logs, however the endpoints fail.

Every secret comes from the environment through ``${VAR}`` interpolation, as in
production; the endpoints fail in ways that invite a leak (a webhook receiver that
echoes the request back in its error page, an SMTP server that is not there, a database
that refuses the login), and every byte the process writes is searched for each value.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from monitor.cli import main
from tests.test_pipeline import STORY, page, rss
from tests.webserver import Reply, Request, WebServer

ROOT = Path(__file__).resolve().parents[1]
SECRETS = {
    "NM_WEBHOOK_SECRET": "whsec_c2VjcmV0LWtleS1mb3ItdGhlLWhvb2stOTE3Mw==",
    "NM_HOOK_TOKEN": "hooktoken-8f3a9c1d2e7b",
    "NM_API_TOKEN": "apitoken-5d1e0c9b8a7f",
    "NM_SMTP_PASSWORD": "smtp-password-3c7e1a",
    "NM_DB_PASSWORD": "db-password-6b2f9d",
}


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def echoing_receiver(request: Request) -> Reply:
    """A receiver failing with 500 and quoting the request back, as debug pages do."""
    quoted = ("authorization", "webhook-signature")  # first: the error snippet is short
    echoed = f"cannot {request.method} {request.path} with " + "; ".join(
        f"{name}: {request.headers.get(name)}" for name in quoted
    )
    return Reply(echoed, status=500, content_type="text/plain")


def write_config(path: Path, web: WebServer, storage: str, daemon: bool = False) -> None:
    schedule = (
        '[daemon]\narticles_every = "1s"\nrelay_every = "1s"\njitter = "0s"\ngrace = "2s"\n'
        if daemon
        else ""
    )
    path.write_text(
        f'[[feeds]]\nname = "world"\nurl = "{web.url("/rss")}"\ninterval = "1s"\n'
        "[fetch]\nallow_private_addresses = true\nretries = 0\ndeadline = 5\n"
        '[outbox]\ncheck_wait = "1s"\n' + schedule + "[[alerts]]\n"
        'name = "hook"\ntype = "webhook"\nkinds = ["new"]\n'
        f'url = "{web.url("/hook/")}${{NM_HOOK_TOKEN}}"\n'
        'secret = "${NM_WEBHOOK_SECRET}"\n'
        'headers = { Authorization = "Bearer ${NM_API_TOKEN}" }\n'
        "[[alerts]]\n"
        'name = "mail"\ntype = "email"\nkinds = ["new"]\nhost = "127.0.0.1"\n'
        f'port = {dead_port()}\nsecurity = "plain"\ntimeout = 2\n'
        'username = "desk"\npassword = "${NM_SMTP_PASSWORD}"\n'
        'sender = "Newsmonitor <monitor@example.org>"\nrecipients = ["desk@example.org"]\n'
        f'[storage]\nurl = "{storage}"\n',
        encoding="utf-8",
    )


def with_password(store_url: str, user: str = "postgres") -> str:
    """``store_url`` logging in as ``user`` with the password from ${NM_DB_PASSWORD}."""
    url = make_url(store_url).set(username=user, password="PASSWORD-PLACEHOLDER")
    return url.render_as_string(hide_password=False).replace(
        "PASSWORD-PLACEHOLDER", "${NM_DB_PASSWORD}"
    )


def assert_no_secret(text: str, where: str) -> None:
    for name, value in SECRETS.items():
        assert value not in text, f"{name} appears in {where}"


@pytest.fixture
def newsroom(web: WebServer) -> WebServer:
    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    web.set("/a/harbour", page("Harbour vote", STORY))
    web.set("/hook/" + SECRETS["NM_HOOK_TOKEN"], echoing_receiver)
    return web


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_check_json_against_failing_endpoints_leaks_no_secret(
    tmp_path: Path, newsroom: WebServer, store_url: str
) -> None:
    """(On PostgreSQL only: it has a password to leak; the server trusts loopback logins.)"""
    config = tmp_path / "monitor.toml"
    write_config(config, newsroom, with_password(store_url))
    result = CliRunner().invoke(main, ["--config", str(config), "check", "--json"], env=SECRETS)

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [change["kind"] for change in document["changes"]] == ["new"]
    # Both channels failed, and said so, without saying anything secret.
    hook = newsroom.hits("/hook/" + SECRETS["NM_HOOK_TOKEN"])
    assert hook and hook[0].headers["authorization"] == "Bearer " + SECRETS["NM_API_TOKEN"]
    errors = json.dumps(document["alerts"])
    assert "HTTP 500" in errors and "Connection refused" in errors
    assert_no_secret(result.stdout, "stdout")
    assert_no_secret(result.stderr, "stderr")


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_daemon_logs_leak_no_secret(tmp_path: Path, newsroom: WebServer, store_url: str):
    config = tmp_path / "monitor.toml"
    write_config(config, newsroom, with_password(store_url), daemon=True)
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    command = [sys.executable, "-m", "monitor", "--config", str(config), "run"]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [*command, "--log-format", "json"],
            cwd=ROOT,
            stdout=stdout,
            stderr=stderr,
            env={**os.environ, **SECRETS},
        )
        try:
            deadline = time.monotonic() + 20
            # Until the relay has tried the hook and logged the failure (bounded wait).
            while "HTTP 500" not in err.read_text(encoding="utf-8", errors="replace"):
                assert process.poll() is None, err.read_text(encoding="utf-8")
                assert time.monotonic() < deadline, "the daemon never tried the webhook"
                time.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            assert process.wait(15) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
    logged = err.read_text(encoding="utf-8")
    assert logged.strip(), "the daemon logged nothing"
    assert all(line.startswith("{") for line in logged.splitlines())
    assert_no_secret(out.read_text(encoding="utf-8"), "stdout")
    assert_no_secret(logged, "the log")


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_refused_database_login_is_one_line_without_the_password(
    tmp_path: Path, newsroom: WebServer, store_url: str
) -> None:
    # The test server trusts loopback logins, so a wrong password alone would not fail:
    # an unknown role does, and the password is in the URL all the same.
    config = tmp_path / "monitor.toml"
    write_config(config, newsroom, with_password(store_url, user="nobody_here"))
    result = CliRunner().invoke(main, ["--config", str(config), "check", "--json"], env=SECRETS)

    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert result.stderr.startswith(
        "Error: cannot connect to postgresql+psycopg://nobody_here:***@"
    )
    assert 'role "nobody_here" does not exist' in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
    assert_no_secret(result.output, "the output")
    assert newsroom.requests == []  # nothing was fetched without a store


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_store_failure_is_not_reported_as_a_change(
    tmp_path: Path, newsroom: WebServer, store_url: str
) -> None:
    config = tmp_path / "monitor.toml"
    write_config(config, newsroom, with_password(store_url, user="nobody_here"))
    result = CliRunner().invoke(
        main, ["--config", str(config), "check", "--exit-code"], env=SECRETS
    )
    assert result.exit_code not in (0, 1)
