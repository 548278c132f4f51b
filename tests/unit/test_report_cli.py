"""The command line the bundle reports share: the bundle path and, for some, ``--every``."""

from __future__ import annotations

import pytest

from bench.report_cli import print_bundle_report


def test_the_report_gets_the_bundle_and_the_default_every(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["report", "some/bundle"])
    print_bundle_report("help", lambda bundle, every: f"{bundle.name} every {every}", every=4)
    assert capsys.readouterr().out == "bundle every 4\n"


def test_every_is_read_from_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["report", "b", "--every", "9"])
    print_bundle_report("help", lambda bundle, every: f"{every}", every=4)
    assert capsys.readouterr().out == "9\n"


def test_a_report_without_every_refuses_the_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["report", "b", "--every", "9"])
    with pytest.raises(SystemExit):
        print_bundle_report("help", lambda bundle: bundle.name)
