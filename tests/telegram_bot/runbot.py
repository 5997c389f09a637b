"""`manage.py runbot` as a real process on the test database, against the fake Bot API."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from django.db import connection

from tests.ops.processes import Process, child_env

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_URL = "https://bot.nanogen.test/telegram/webhook"
WEBHOOK_PATH = "/telegram/webhook"
WEBHOOK_SECRET = "test-webhook-secret_0123456789"
# The bot's database sessions are named so that a test can find (and cut) them.
BOT_APP = "nanogen-test-bot"


def database_url() -> str:
    """The test database (test_<name>), which the bot process must use."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], Any], *, seconds: float = 20, what: str) -> Any:
    """Poll `condition` (bounded) until it is truthy; its value."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


class RunBot:
    """One `manage.py runbot` process; its output goes to `log`."""

    def __init__(self, *, log: Path, env: dict[str, str], port: int | None) -> None:
        self.log = log
        self.env = env
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> "RunBot":
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "runbot", "--listen", "127.0.0.1"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_serving(self) -> None:
        """Until the webhook server accepts connections (or the process died)."""

        def listening() -> bool:
            assert self.process.poll() is None, f"runbot exited with {self.process.returncode}:\n{self.output()}"
            with socket.socket() as probe:
                probe.settimeout(0.2)
                return probe.connect_ex(("127.0.0.1", self.port)) == 0

        wait_until(listening, seconds=30, what="the webhook server")

    def post(self, update: dict[str, Any], *, secret: str | None = WEBHOOK_SECRET) -> requests.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return requests.post(f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}", json=update, headers=headers, timeout=10)

    def wait_logged(self, text: str, *, count: int = 1) -> None:
        wait_until(lambda: self.output().count(text) >= count, what=f"{count} x {text!r} in the bot's log")

    def stop(self, signum: int = signal.SIGTERM, *, timeout: float = 30) -> int:
        assert self.process is not None
        self.process.send_signal(signum)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def bot_env(fake_base_url: str, **overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "TELEGRAM_API_BASE_URL": fake_base_url,
        "TELEGRAM_WEBHOOK_URL": WEBHOOK_URL,
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "MINI_APP_URL": "https://app.nanogen.test/",
        "ADMIN_ALERT_CHAT_ID": "",
        "LOG_FORMAT": "plain",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(overrides)
    return env


@contextmanager
def qcluster_for_chat(tmp_path: Path, fake_base_url: str) -> Iterator[Process]:
    """A real qcluster running the chat's generations (offline demo provider, no delay),
    albums and the bot's tasks against the fake Bot API; its log tail is printed after."""
    env = child_env(TELEGRAM_API_BASE_URL=fake_base_url, AIMLAPI_KEY="", DEMO_PROVIDER_DELAY_SECONDS="0",
                    Q_WORKERS="2", Q_TIMEOUT="20", Q_RETRY="40", MINI_APP_URL="https://app.nanogen.test/")
    process = Process([sys.executable, "manage.py", "qcluster"], env=env, log=tmp_path / "qcluster.log").start()
    try:
        yield process
    finally:
        process.stop()
        sys.stdout.write(process.tail())


@contextmanager
def runbot_serving(tmp_path: Path, fake_base_url: str, **overrides: str) -> Iterator[RunBot]:
    """`manage.py runbot` in webhook mode on a free port, serving; killed after, its
    output's tail printed (pytest shows it when the test fails)."""
    port = free_port()
    bot = RunBot(log=tmp_path / "runbot.log", port=port,
                 env=bot_env(fake_base_url, TELEGRAM_WEBHOOK_PORT=str(port), **overrides))
    bot.start()
    try:
        bot.wait_serving()
        yield bot
    finally:
        bot.kill()
        sys.stdout.write(bot.output()[-6000:])
