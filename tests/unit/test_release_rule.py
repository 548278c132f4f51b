"""The model card's "Next release" rule as bench.release_rule applies it: more films read correctly than the
release, at least 95% of adult normals read Normal, and no fewer COVID-19 films caught."""

from __future__ import annotations

import numpy as np
import pytest

from bench.ensemble_spread import SHAPE_PROBE, EnsembleFigures
from bench.release_rule import (
    Count,
    RuleFigures,
    SameRecipeSpread,
    ValidationReadings,
    covid_caught_keeping_adult_normals,
    failed_against_spread,
    failed_conditions,
)
from function.bundle_format import LABELS
from function.calibration import Calibration
from training.cohorts import Cohort

RELEASE = RuleFigures("release", Count(3103, 3229), Count(943, 987), Count(1123, 1158), Count(1107, 1138))


def _candidate(correct: int, adult_normals: int, adult_total: int = 987, covid: int = 1130) -> RuleFigures:
    return RuleFigures(
        "candidate",
        Count(correct, 3229),
        Count(adult_normals, adult_total),
        Count(covid, 1158),
        Count(1110, 1138),
    )


def test_a_candidate_reading_more_films_correctly_with_95_percent_of_adult_normals_replaces_the_release() -> (
    None
):
    assert failed_conditions(_candidate(3104, 938), RELEASE) == []
    assert failed_conditions(_candidate(3104, 950, adult_total=1000), RELEASE) == []  # exactly 95% is enough
    assert failed_conditions(_candidate(3104, 938, covid=1123), RELEASE) == []  # as many COVID-19 is enough


def test_a_candidate_reading_as_many_films_correctly_does_not() -> None:
    assert failed_conditions(_candidate(3103, 987), RELEASE) == [
        "reads 3103 films correctly, not more than the release's 3103"
    ]


def test_a_candidate_reading_fewer_than_95_percent_of_adult_normals_normal_does_not() -> None:
    assert failed_conditions(_candidate(3200, 937), RELEASE) == [
        "reads 937 of 987 (94.9%) adult normals Normal, under 95%"
    ]


def test_a_candidate_judged_on_another_number_of_films_does_not() -> None:
    other = RuleFigures("candidate", Count(3200, 3300), Count(950, 987), Count(1, 1), Count(1, 1))
    assert failed_conditions(other, RELEASE)[0] == "validation sizes differ (3300 and 3229)"


def test_a_candidate_catching_fewer_covid_films_does_not_even_when_it_reads_more_films_correctly() -> None:
    assert failed_conditions(_candidate(3106, 962, covid=1122), RELEASE) == [
        "catches 1122 of 1158 (96.9%) COVID-19 films, fewer than the release's 1123"
    ]


def _averaged(correct: int, covid: int, narrowed: int = 150) -> EnsembleFigures:
    return EnsembleFigures(("seed 0", "seed 1", "seed 2"), 0.2, correct, 950, covid, {SHAPE_PROBE: narrowed})


SPREAD = SameRecipeSpread(best_correct=3115, median_covid_caught=1124.5, fewest_narrowed_children_normal=120)


def test_members_must_beat_the_best_same_recipe_ensemble_not_just_the_release() -> None:
    assert failed_against_spread(_averaged(3116, 1125), SPREAD) == []
    assert failed_against_spread(_averaged(3115, 1125), SPREAD) == [
        "its members read 3115 films correctly (float32), not more than the best same-recipe ensemble's 3115"
    ]


def test_members_must_catch_as_many_covid_films_as_the_same_recipe_median() -> None:
    assert failed_against_spread(_averaged(3120, 1124), SPREAD) == [
        "its members catch 1124 COVID-19 films (float32), fewer than the same-recipe median 1124.5"
    ]
    assert failed_against_spread(_averaged(3120, 1124), SameRecipeSpread(3115, 1124, 120)) == []


def test_members_must_not_read_the_films_shape_more_than_the_same_recipe_does() -> None:
    assert failed_against_spread(_averaged(3120, 1125, narrowed=120), SPREAD) == []
    assert failed_against_spread(_averaged(3120, 1125, narrowed=119), SPREAD) == [
        "its members read 119 children's normals Normal with the narrowed x0.8 chest (float32), fewer than "
        "any same-recipe ensemble (120): it reads the film's shape more"
    ]
    # reading the shape less earns nothing by itself
    assert failed_against_spread(_averaged(3115, 1125, narrowed=500), SPREAD) != []


def _readings(covid_scores: list[float], truth: list[str], ages: list[str]) -> ValidationReadings:
    calibrated = np.array([[1 - p, p, 0.0] for p in covid_scores])
    cohorts = [Cohort(f"p{i}", "source", age) for i, age in enumerate(ages)]
    labels = np.array([LABELS.index(label) for label in truth])
    return ValidationReadings("v", Calibration(), calibrated, labels, cohorts)


READINGS = _readings(
    [0.05, 0.1, 0.2, 0.3, 0.7, 0.01, 0.08, 0.15, 0.2, 0.25, 0.6],
    ["Normal"] * 6 + ["COVID-19"] * 5,
    ["adult"] * 5 + ["pediatric"] + ["adult"] * 5,
)


@pytest.mark.parametrize(("keep", "caught"), [(4, 1), (3, 2), (2, 4), (1, 5), (0, 5), (5, None)])
def test_covid_caught_is_counted_at_the_lowest_threshold_keeping_that_many_adult_normals(
    keep: int, caught: int | None
) -> None:
    """Four adult normals are read Normal by argmax (COVID-19 at 0.05 to 0.3; the child's normal does not
    count), so keeping all four leaves only the COVID-19 film argmax catches, and keeping fewer lowers the
    threshold past the COVID-19 films one by one (the one scored as an adult normal kept Normal is not
    caught: the threshold lies just above that normal); five cannot be kept."""
    assert covid_caught_keeping_adult_normals(READINGS, keep) == caught
