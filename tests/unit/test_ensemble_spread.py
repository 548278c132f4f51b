"""bench.ensemble_spread: each recombined ensemble is averaged, calibrated and counted as served, and the
spread table summarises exactly those counts."""

from __future__ import annotations

import numpy as np

from bench.ensemble_spread import (
    FRAMINGS,
    EnsembleFigures,
    MemberOutputs,
    Truth,
    framing_films,
    score,
    spread_table,
)
from training.cohorts import Cohort

NORMAL, COVID, VIRAL = 0, 1, 2
# tuning and validation: two adult normals, a child's normal, two COVID-19, one viral pneumonia
LABELS = np.array([NORMAL, NORMAL, NORMAL, COVID, COVID, VIRAL])
ADULT_NORMAL = np.array([True, True, False, False, False, False])
TRUTH = Truth(LABELS, ADULT_NORMAL, LABELS, ADULT_NORMAL)


def _confident(labels: np.ndarray, share: float = 0.9) -> np.ndarray:
    probabilities = np.full((len(labels), 3), (1 - share) / 2)
    probabilities[np.arange(len(labels)), labels] = share
    return probabilities


def _member(name: str, validation: np.ndarray, letterboxed: np.ndarray | None = None) -> MemberOutputs:
    """``letterboxed``: the outputs on the films that framing counts (the two adult normals)."""
    framed = {"letterboxed": validation[ADULT_NORMAL] if letterboxed is None else letterboxed}
    return MemberOutputs(name, _confident(LABELS), validation, framed)


def _score(*members: MemberOutputs) -> EnsembleFigures:
    return score(members, TRUTH, [("COVID-19", 0.98)], 0.6, None)


def test_a_member_that_reads_every_film_right_counts_every_film() -> None:
    figures = _score(_member("seed 0", _confident(LABELS)))
    assert (figures.correct, figures.adult_normals_normal, figures.covid_caught) == (6, 2, 2)
    assert figures.framed_read_as_labelled == {"letterboxed": 2}
    assert figures.members == ("seed 0",)


def test_the_framed_counts_come_from_the_framed_outputs_and_only_adult_normals_count() -> None:
    one_covid = _confident(np.array([NORMAL, COVID]))
    child_normal_wrong = _confident(np.array([NORMAL, NORMAL, COVID, COVID, COVID, VIRAL]))
    figures = _score(_member("seed 0", child_normal_wrong, letterboxed=one_covid))
    assert (figures.correct, figures.adult_normals_normal) == (5, 2)  # the child's normal is not an adult's
    assert figures.framed_read_as_labelled == {"letterboxed": 1}


def test_each_framing_counts_the_films_of_its_age_and_class() -> None:
    ages = ["adult", "adult", "pediatric", "adult", "pediatric", "pediatric"]
    cohorts = [Cohort(group=str(i), source="s", age=age) for i, age in enumerate(ages)]
    letterboxed = framing_films(FRAMINGS["letterboxed"], LABELS, cohorts)
    narrowed = framing_films(FRAMINGS["chest narrowed x0.8"], LABELS, cohorts)
    assert letterboxed.tolist() == [True, True, False, False, False, False]
    assert narrowed.tolist() == [False, False, True, False, False, False]


def test_the_ensemble_reads_the_mean_of_its_members() -> None:
    right, unsure = _confident(LABELS, 0.9), np.full((6, 3), 1 / 3)
    wrong = _confident(np.array([VIRAL, VIRAL, VIRAL, NORMAL, NORMAL, NORMAL]), 0.6)
    assert _score(_member("seed 1", wrong)).correct == 0
    assert _score(_member("seed 0", right), _member("seed 1", wrong)).correct == 6  # 0.5 against 0.3
    assert _score(_member("seed 0", unsure), _member("seed 1", wrong)).correct == 0


def _figures(correct: int, adults: int, covid: int, letterboxed: int) -> EnsembleFigures:
    return EnsembleFigures(("a", "b"), 0.2, correct, adults, covid, {"letterboxed": letterboxed})


FRAMED_FILMS = {"letterboxed": 2}


def test_the_table_summarises_the_rows_it_shows() -> None:
    table = spread_table(
        [_figures(10, 4, 2, 1), _figures(12, 3, 2, 0), _figures(17, 2, 1, 2)], TRUTH, FRAMED_FILMS
    )
    rows = {
        line.split("|")[1].strip(): [c.strip() for c in line.split("|")[3:-1]] for line in table.splitlines()
    }
    assert rows["**minimum**"] == ["10", "2", "1", "0"]
    assert rows["**median**"] == ["12", "3", "2", "1"]
    assert rows["**maximum**"] == ["17", "4", "2", "2"]
    assert rows["**standard deviation**"][0] == "3.60555"  # of 10, 12, 17
    assert "read correctly (of 6)" in table and "adult normals Normal (of 2)" in table
    assert "COVID-19 caught (of 2)" in table and "adult Normal read Normal, letterboxed (of 2)" in table


def test_one_ensemble_gets_no_summary() -> None:
    table = spread_table([_figures(10, 4, 2, 1)], TRUTH, FRAMED_FILMS)
    assert "minimum" not in table and len(table.splitlines()) == 3


def test_with_adult_normals_to_keep_the_ensemble_counts_covid_caught_at_that_operating_point() -> None:
    validation = np.array(
        [
            [0.9, 0.05, 0.05],  # the two adult normals
            [0.9, 0.05, 0.05],
            [0.9, 0.05, 0.05],  # the child's normal
            [0.05, 0.9, 0.05],
            [0.92, 0.03, 0.05],  # a COVID-19 film scored under the adult normals
            [0.05, 0.05, 0.9],
        ]
    )
    members = [_member("seed 0", validation)]

    def keeping(keep: int | None) -> int | None:
        return score(members, TRUTH, [("COVID-19", 0.98)], 0.6, None, keep).covid_caught_keeping

    assert (keeping(None), keeping(2), keeping(0), keeping(3)) == (None, 1, 2, None)
    figures = score(members, TRUTH, [("COVID-19", 0.98)], 0.6, None, 0)
    assert figures.covid_caught == 1  # as served; keeping no adult normal flags every film
    header, *_, median, _, _ = spread_table([figures, figures], TRUTH, FRAMED_FILMS, keep=0).splitlines()
    headings = [cell.strip() for cell in header.split("|")[1:-1]]
    column = headings.index("COVID-19 caught, threshold set to keep 0 adult normals Normal")
    assert median.split("|")[1:-1][column].strip() == "2"
    no_column = spread_table([_score(*members)], TRUTH, FRAMED_FILMS)
    assert "threshold set to keep" not in no_column
