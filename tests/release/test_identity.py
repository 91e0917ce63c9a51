from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlscope.errors import InputError
from mlscope.release.identity import current_identity


def test_env_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSCOPE_USER", "  bob@example.com ")
    assert current_identity() == "bob@example.com"


def test_git_email_then_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLSCOPE_USER", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.chdir(repo)
    with pytest.raises(InputError) as err:
        current_identity()
    assert "MLSCOPE_USER" in err.value.one_line() and "git config" in err.value.one_line()
    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run(["git", "config", "user.email", "carol@example.com"], check=True)
    assert current_identity() == "carol@example.com"


def test_rejects_control_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSCOPE_USER", "eve\nforged-line")
    with pytest.raises(InputError, match="not a plain name"):
        current_identity()
