"""``critlang lsp`` on the command line: without pygls it says what to install and exits 2."""

from __future__ import annotations

import sys

import pytest

from critlang.cli import main


def test_without_pygls_the_subcommand_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(sys.modules):
        if name == "critlang.lsp" or name.startswith(("critlang.lsp.", "pygls", "lsprotocol")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pygls", None)
    monkeypatch.setitem(sys.modules, "lsprotocol", None)

    assert main(["lsp"]) == 2
    error = capsys.readouterr().err
    assert "install critlang[lsp]" in error
    assert error.startswith("critlang: the language server needs pygls")


def test_the_subcommand_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["lsp", "--help"])
    assert exit_.value.code == 0
    assert "--stdio" in capsys.readouterr().out
