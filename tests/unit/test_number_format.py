"""Numbers in the API's texts: Spanish as the RAE and ISO write them, English with commas.

Spanish groups five digits or more in threes with a no-break space ("17 000", so a number never wraps)
and leaves four alone ("4500"); English groups with commas ("4,500", "17,000"). ``function.errors.number``
writes every number of a message; ``tests.api_support.numbers_in`` is the check ``error_of`` runs on every
error answer, so it must compare grouped numbers rightly and refuse ungrouped ones. The page's twin of the
helper is checked against this one in tests/browser/test_number_format.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from function.errors import number
from tests.api_support import assert_bilingual, error_of, make_client, numbers_in, post_image
from tests.upload_samples import png_claiming

NBSP = "\u00a0"
WRITTEN = [
    # value, digits, Spanish, English
    (7, 0, "7", "7"),
    (4500, 0, "4500", "4,500"),
    (16_384, 0, "16\u00a0384", "16,384"),
    (4_500_000, 0, "4\u00a0500\u00a0000", "4,500,000"),
    (50_000_000, 0, "50\u00a0000\u00a0000", "50,000,000"),
    (4.5, 1, "4,5", "4.5"),
    (1234.5, 1, "1234,5", "1,234.5"),
    (12_345.678, 2, "12\u00a0345,68", "12,345.68"),
    (9999.96, 1, "10\u00a0000,0", "10,000.0"),  # rounding makes it five digits: grouped
    (-17_000, 0, "-17\u00a0000", "-17,000"),
    (2.5, 0, "3", "3"),  # a half goes away from zero on both sides (Python's own format rounds to even)
    (-2.5, 0, "-3", "-3"),
    (0.125, 2, "0,13", "0.13"),
]
"""Pairs also checked against the page's ``CXR_I18N.number`` (tests/browser/test_number_format.py)."""


@pytest.mark.parametrize(("value", "digits", "spanish", "english"), WRITTEN)
def test_a_number_is_written_as_each_language_writes_it(
    value: float, digits: int, spanish: str, english: str
) -> None:
    assert number(value, "es", digits=digits) == spanish
    assert number(value, "en", digits=digits) == english


@pytest.fixture(scope="module")
def client(shared_data: Path) -> Iterator[TestClient]:
    with make_client() as client:
        yield client


def test_the_apis_pixel_limits_are_grouped_in_both_languages(client: TestClient) -> None:
    """A real refusal through the app: the upload's width and the side limit, five digits each."""
    error = error_of(post_image(client, png_claiming(20_000, 300)))
    assert error["code"] == "image_too_large"
    assert f"20{NBSP}000 × 300 píxeles" in error["message"]
    assert f"16{NBSP}384 píxeles por lado" in error["message"]
    assert "20,000x300 pixels" in error["message_en"] and "16,384 pixels a side" in error["message_en"]


def test_the_bilingual_check_reads_grouped_numbers_as_one() -> None:
    spanish = f"mide 20{NBSP}000 × 300 píxeles; el límite es 4,5 MB y 4500 barridos"
    english = "it is 20,000x300 pixels; the limit is 4.5 MB and 4,500 scans"
    assert numbers_in(spanish, "es") == numbers_in(english, "en") == ["20000", "300", "4.5", "4500"]
    assert numbers_in("JPEG 2000", "en") == ["2000"]  # a name keeps its digits


@pytest.mark.parametrize(
    ("text", "language"),
    [("17000 píxeles", "es"), (f"4{NBSP}500 bytes", "es"), ("17000 pixels", "en")],
    ids=["spanish-five-digits-ungrouped", "spanish-four-digits-grouped", "english-five-digits-ungrouped"],
)
def test_the_bilingual_check_refuses_a_number_written_against_the_rule(text: str, language: str) -> None:
    with pytest.raises(AssertionError, match="is not how"):
        numbers_in(text, language)


@pytest.mark.parametrize("spanish", ["17.000 píxeles", "17 000 píxeles"], ids=["intl-dot", "plain-space"])
def test_the_bilingual_check_refuses_a_spanish_group_that_is_not_a_no_break_space(spanish: str) -> None:
    """Chromium's Intl.NumberFormat("es") writes "17.000"; a plain space lets the number wrap. Either reads
    as two numbers, which the English "17,000" does not match."""
    with pytest.raises(AssertionError):
        assert_bilingual({"code": "image_too_large", "message": spanish, "message_en": "17,000 pixels"})


def test_numpy_numbers_and_infinities_are_written_too() -> None:
    """Sizes and probabilities may arrive as numpy scalars; an infinity must not raise inside a message."""
    import numpy as np

    assert number(np.float32(2.5), "es") == "3" and number(np.int64(123_456), "es") == "123\u00a0456"
    assert number(float("inf"), "en") == "inf"
    assert number(1e30, "en") == "1,000,000,000,000,000,019,884,624,838,656"
