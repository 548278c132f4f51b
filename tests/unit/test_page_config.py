"""infra/page_config.py: the deployed page's config.js can only ever hold an API URL."""

from __future__ import annotations

import json

import pytest

from infra.page_config import checked_api_url, config_js, main

API_URL = "https://abc123def4.execute-api.us-east-1.amazonaws.com"


def test_page_config_is_only_a_url() -> None:
    assert checked_api_url(API_URL + "/") == API_URL
    assert checked_api_url("") == ""
    assert checked_api_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    for bad in (
        "http://api.example.org",
        "javascript:alert(1)",
        'https://a.example.org/"};alert(1);//',
        "https://user:pw@api.example.org",
        "https://api.example.org/?q=1",
        "ftp://api.example.org",
    ):
        with pytest.raises(ValueError):
            checked_api_url(bad)
    text = config_js(API_URL)
    assert text.startswith("/*") and text.rstrip().endswith(";")
    assert json.loads(text[text.index("{") : text.rindex("}") + 1]) == {"apiBaseUrl": API_URL}


def test_command_writes_the_file_or_refuses(tmp_path, capsys) -> None:
    out = tmp_path / "config.js"
    assert main(["--api-url", API_URL, "--out", str(out)]) == 0
    assert API_URL in out.read_text()
    assert main(["--api-url", "http://evil.example.org", "--out", str(tmp_path / "other.js")]) == 2
    assert not (tmp_path / "other.js").exists()
    assert "https" in capsys.readouterr().err
