"""The browser tests run Telegram's own telegram-web-app.js: the vendored file is the one
recorded in vendor/VERSION, byte for byte the copy in the npm package @twa-dev/sdk."""

import base64
import hashlib
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.miniapp.e2e.telegram_client import SDK_PATH, sdk_record


def test_the_vendored_sdk_is_the_recorded_file():
    record = sdk_record()
    assert record["package"] == "@twa-dev/sdk"
    assert hashlib.sha256(SDK_PATH.read_bytes()).hexdigest() == record["sha256"]


def test_the_vendored_sdk_is_the_npm_packages_copy(tmp_path: Path):
    """Checked against the tarball itself when npm has it in its local cache (it does after
    scripts/vendor-telegram-web-app); never reaches the network."""
    record = sdk_record()
    if not shutil.which("npm"):
        pytest.skip("npm is not installed")
    try:
        done = subprocess.run(
            ["npm", "pack", "--offline", "--silent", "--pack-destination", str(tmp_path),
             f"{record['package']}@{record['version']}"],
            capture_output=True, text=True, timeout=60, check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("npm pack --offline did not answer")
    if done.returncode != 0:
        pytest.skip(f"{record['package']}@{record['version']} is not in npm's cache "
                    "(scripts/vendor-telegram-web-app puts it there)")
    tarball = tmp_path / done.stdout.strip().splitlines()[-1]
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    assert f"sha512-{digest}" == record["integrity"]
    with tarfile.open(tarball) as archive:
        member = archive.extractfile(record["path"])
        assert member is not None
        assert member.read() == SDK_PATH.read_bytes()
