"""The model card's "Next release" rule as bench.release_rule applies it: more films read correctly than the
release, at least 95% of adult normals read Normal, and no fewer COVID-19 films caught."""

from __future__ import annotations

from bench.release_rule import Count, RuleFigures, failed_conditions

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
