"""The experiment log's "Next release" rule as bench.release_rule applies it: more films read correctly than
the release, at least 95% of adult normals read Normal, and no fewer COVID-19 films caught."""

from __future__ import annotations

import dataclasses

from bench.ensemble_spread import SHAPE_PROBE, EnsembleFigures
from bench.release_rule import (
    Count,
    RuleFigures,
    SameRecipeSpread,
    failed_against_spread,
    failed_conditions,
)

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


def _averaged(correct: int, covid_keeping: int | None, narrowed: int = 150) -> EnsembleFigures:
    """Members' figures; their COVID-19 count as served (1100) is no condition any more."""
    return EnsembleFigures(
        ("seed 0", "seed 1", "seed 2"), 0.2, correct, 950, 1100, {SHAPE_PROBE: narrowed}, covid_keeping
    )


SPREAD = SameRecipeSpread(
    best_correct=3115,
    keep_adult_normals=943,
    best_covid_caught_keeping=1131,
    fewest_narrowed_children_normal=120,
)


def test_members_must_beat_the_best_same_recipe_ensemble_not_just_the_release() -> None:
    assert failed_against_spread(_averaged(3116, 1132), SPREAD) == []
    assert failed_against_spread(_averaged(3115, 1132), SPREAD) == [
        "its members read 3115 films correctly (float32), not more than the best same-recipe ensemble's 3115"
    ]


def test_members_must_rank_covid_above_healthy_adults_better_than_any_same_recipe_ensemble() -> None:
    """Counted at the operating point, not as served: the served count is the threshold fit's luck."""
    assert failed_against_spread(_averaged(3120, 1131), SPREAD) == [
        "its members catch 1131 COVID-19 films (float32) with 943 adult normals kept Normal, not more than "
        "the best same-recipe ensemble's 1131"
    ]
    assert len(failed_against_spread(_averaged(3120, None), SPREAD)) == 1  # cannot keep 943 at all
    assert (
        failed_against_spread(
            _averaged(3120, 1131), dataclasses.replace(SPREAD, best_covid_caught_keeping=1130)
        )
        == []
    )


def test_members_must_not_read_the_films_shape_more_than_the_same_recipe_does() -> None:
    assert failed_against_spread(_averaged(3120, 1132, narrowed=120), SPREAD) == []
    assert failed_against_spread(_averaged(3120, 1132, narrowed=119), SPREAD) == [
        "its members read 119 children's normals Normal with the narrowed x0.8 chest (float32), fewer than "
        "any same-recipe ensemble (120): it reads the film's shape more"
    ]
    # reading the shape less earns nothing by itself
    assert failed_against_spread(_averaged(3115, 1132, narrowed=500), SPREAD) != []
