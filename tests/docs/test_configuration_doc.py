"""Every variable the settings read is in the README's configuration table and in
.env.example, and neither lists a variable nothing reads."""

import re

from tests.docs.helpers import ROOT, section

SETTINGS = (ROOT / "nanogen" / "settings.py").read_text()
# Read by libraries or the Procfile, not by nanogen/settings.py.
READ_ELSEWHERE = {"PROMETHEUS_MULTIPROC_DIR"}


def settings_variables() -> set[str]:
    return set(re.findall(r"\benv(?:\.\w+)?\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']", SETTINGS))


def readme_table_variables() -> set[str]:
    rows = [line for line in section((ROOT / "README.md").read_text(), "Configuration").splitlines()
            if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", row.split("|")[1])}


def env_example_variables() -> set[str]:
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))


def test_the_settings_read_variables():
    assert {"DATABASE_URL", "SECRET_KEY", "MEDIA_STORAGE", "AWS_STORAGE_BUCKET_NAME"} <= settings_variables()


def test_every_variable_is_in_the_readme_table():
    assert settings_variables() - readme_table_variables() == set()
    assert readme_table_variables() - settings_variables() - READ_ELSEWHERE == set()


def test_every_variable_is_in_env_example():
    assert settings_variables() - env_example_variables() == set()
    assert env_example_variables() - settings_variables() - READ_ELSEWHERE == set()
