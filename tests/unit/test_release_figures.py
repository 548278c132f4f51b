"""The README's and the model card's figures of the released model, recomputed from its own artifacts.

The tables come from `bench.model_report` and `make evaluate`, which need minutes of inference; these
checks read only `metrics.json`, `gate.json`, the manifest and `validation_files.txt`, whose counts those
figures are made of, so a figure left behind by a new release (or a rebuilt consistency check) fails here.
Percentages are printed from counts where the artifact holds them (`training.report.count_of`), as the
reports do; the split's sizes (validation radiographs, tuning films) are the artifacts' too.
"""

from __future__ import annotations

import json
import re
from typing import Any

from infra.locations import RELEASE_BUNDLE, REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()
MODEL_CARD = (REPO_ROOT / "docs" / "model-card.md").read_text()
METRICS = json.loads((RELEASE_BUNDLE / "metrics.json").read_text())
GATE = json.loads((RELEASE_BUNDLE / "gate.json").read_text())
MANIFEST = json.loads((RELEASE_BUNDLE / "manifest.json").read_text())
SERVED = METRICS["served_rule_validation_cohorts"]
ARGMAX = METRICS["validation_cohorts"]
VALIDATION = sum(
    1 for line in (RELEASE_BUNDLE / "validation_files.txt").read_text().splitlines() if line.strip()
)
"""The release's validation radiographs: one line (sha256, class, path) for each."""


def _number_in(text: str, pattern: str) -> int:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in {text!r}"
    return int(found.group(1))


TUNING = _number_in(METRICS["calibration"]["fitted_on"], r"tuning split \((\d+) images")
"""The tuning split (carved from training; the temperature, the screening threshold and the consistency
check's tuning rate are fitted or measured on it): metrics.json states it only in words
(`training.train`: f"tuning split ({len(split.tune)} images, ...")."""


def count(figures: dict[str, Any], key: str = "recall") -> int:
    return round(figures[key] * figures["n"])


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def counted(figures: dict[str, Any], key: str = "recall") -> str:
    return pct(count(figures, key) / figures["n"])


def interval(figures: dict[str, Any]) -> str:
    low, high = figures["ci95"]
    return f"[{100 * low:.1f}, {100 * high:.1f}]"


def test_the_artifacts_agree_on_the_splits_sizes() -> None:
    """The validation radiographs and the tuning films the docs count are one split across the artifacts:
    the validation list, the metrics (argmax and served), the manifest's class counts and the consistency
    check's own statement; the check's two false-rejection rates (4 decimals) are whole counts of them."""
    counts = {
        "metrics.json validation": METRICS["validation"]["n"],
        "metrics.json argmax cohorts": ARGMAX["overall"]["n"],
        "metrics.json served cohorts": SERVED["overall"]["n"],
        "manifest.json data": sum(MANIFEST["data"]["validation"].values()),
        "gate.json held_back": _number_in(GATE["held_back"]["radiographs"], r"\((\d+) images\)"),
    }
    assert counts == dict.fromkeys(counts, VALIDATION)
    if "crop_note.json" in MANIFEST["files"]:  # the crop note, when the release has one, counts both
        films = json.loads((RELEASE_BUNDLE / "crop_note.json").read_text())
        assert (films["validation"]["films"], films["tuning"]["films"]) == (VALIDATION, TUNING)
    for split, n in (("validation", VALIDATION), ("tuning", TUNING)):
        rate = GATE["false_rejection_rate"][split]
        assert any(round(k / n, 4) == rate for k in range(n + 1)), split


def test_the_headline_rows_are_the_releases_metrics() -> None:
    rows = {}
    for name, cohorts in (("served", SERVED), ("argmax", ARGMAX)):
        overall, recall = cohorts["overall"], cohorts["overall"]["recall"]
        adults = cohorts["by_age"]["adult"]["recall"]["Normal"]
        rows[name] = (
            f"{counted(overall, 'accuracy')} {interval(overall)}",
            counted(recall["COVID-19"]),
            interval(recall["COVID-19"]),
            counted(recall["Normal"]),
            f"adults {counted(adults)}",
            interval(adults),
            counted(recall["Viral Pneumonia"]),
        )
    accuracy, covid, covid_ci, normal, adults, adults_ci, viral = rows["served"]
    served_row = f"| {accuracy} | {covid} {covid_ci} | {normal} ({adults} {adults_ci}) | {viral} |"
    assert f"| released model, served {served_row}" in README
    share, accuracy_ci = accuracy.split(" ", 1)
    card_row = (
        f"**{share}** {accuracy_ci} | **{covid}** {covid_ci} | {normal} ({adults} {adults_ci}) | {viral} |"
    )
    released = "| **released** (ensemble of three), served | (2) grouped 60/40 of both folders |"
    released += f" {SERVED['overall']['n']} |"
    assert f"{released} {card_row}" in MODEL_CARD
    accuracy, covid, covid_ci, normal, adults, _, viral = rows["argmax"]
    assert f"| released model, argmax | {accuracy} | {covid} | {normal} ({adults}) | {viral} |" in README
    card_row = f"{accuracy} | {covid} {covid_ci} | {normal} ({adults}) | {viral} |"
    assert f"| released, argmax | (2), same images | {ARGMAX['overall']['n']} | {card_row}" in MODEL_CARD


def test_the_screening_thresholds_cost_in_healthy_adults_is_counted() -> None:
    """The threshold only turns readings into COVID-19, so the adult normals it takes from Normal are the
    argmax count minus the served one; the card's share is of that count, not of two rounded shares."""
    argmax = ARGMAX["by_age"]["adult"]["recall"]["Normal"]
    served = SERVED["by_age"]["adult"]["recall"]["Normal"]
    flagged = count(argmax) - count(served)
    shares = f"{counted(argmax)} -> {counted(served)} read as Normal"
    share = pct(flagged / argmax["n"])
    assert f"{share} more healthy adults are flagged ({flagged} of {argmax['n']}: {shares})" in MODEL_CARD
    wrong = argmax["n"] - count(argmax)
    assert f"argmax alone: 1 in {round(argmax['n'] / wrong)}, {wrong} of {argmax['n']}" in MODEL_CARD
    one_in = round(served["n"] / (served["n"] - count(served)))
    assert f"about 1 healthy adult in {one_in} (of {served['n']})" in README


def test_childrens_covid_films_caught_are_the_served_count() -> None:
    children = SERVED["by_age"]["pediatric"]["recall"]["COVID-19"]
    caught = f"{count(children)} of the {children['n']} children's COVID-19 films"
    assert caught in README
    assert f"rarely read as COVID-19 ({count(children)} of {children['n']} in validation" in MODEL_CARD


def test_the_consistency_check_figures_are_gate_json() -> None:
    false_rejection = GATE["false_rejection_rate"]
    validation = pct(false_rejection["validation"])
    ssim_only = pct(GATE["ssim_stage_only"]["false_rejection_rate"]["validation"])
    row = f"| frontal chest radiographs falsely rejected (validation) | {VALIDATION} | {ssim_only} |"
    assert f"{row} {validation} |" in MODEL_CARD
    assert f"wrongly rejected {validation} of the {VALIDATION} frontal validation radiographs" in README
    tuning = pct(false_rejection["tuning"])
    splits = f"{VALIDATION} validation radiographs; {TUNING} tuning"
    assert f"| {splits} | {validation}; {tuning} | yes |" in MODEL_CARD
    held_back = GATE["held_back"]["negatives"]
    drawn = held_back["synthetic"]
    refused = round(GATE["rejection_rate"]["synthetic"] * drawn)
    assert f"and {refused} of {drawn} held-back drawn images" in README
    real = {kind: n for kind, n in held_back.items() if kind != "synthetic"}
    assert f"({min(real.values())} to {max(real.values())} of each kind" in README
    rows = {"ct": "CT", "mri": "MRI", "photo": "photos", "lateral-chest": "lateral chest"}
    for kind, row in rows.items():
        n = held_back[kind]
        ssim = pct(round(GATE["ssim_stage_only"]["rejection_rate"][kind] * n) / n)
        both = pct(round(GATE["rejection_rate"][kind] * n) / n).replace("100.0%", "100%")
        assert f"| {row} | {n} | {ssim} | {both} |" in MODEL_CARD, kind


def test_calibration_and_version_are_the_manifests() -> None:
    calibration = METRICS["calibration"]
    assert MANIFEST["calibration"]["temperature"] == calibration["temperature"]
    assert f"temperature {round(calibration['temperature'], 3):g} fitted on the tuning split" in MODEL_CARD
    before, after = (round(calibration[f"ece_validation_{when}"], 3) for when in ("before", "after"))
    assert before == after and f"ECE {before:g} on validation before and after the temperature" in MODEL_CARD
    indeterminate = pct(calibration["indeterminate_share_validation"])
    assert f"({indeterminate} of the validation images)" in README
    threshold = MANIFEST["calibration"]["flag_thresholds"]["COVID-19"]
    assert f"probability reaches {pct(threshold)} is read as COVID-19" in README.replace("\n  ", " ")
    version = MANIFEST["bundle_version"]
    assert f'"model_version": "{version}"' in README
    assert f"version `{version}`: the mean probability of three" in MODEL_CARD


def test_the_letterboxed_figures_quoted_elsewhere_are_the_cards_table() -> None:
    """`bench.upload_robustness` is not stored in the bundle: the model card's table of it (measured again
    on each new release or consistency check) is the source, and every other place quoting the letterboxed
    row must agree with it (the gate's rebuild moved it from 77.6% and 12.6% to 77.4% and 12.8%)."""
    (row,) = [line for line in MODEL_CARD.splitlines() if line.startswith("| letterboxed to 4:3 |")]
    read, _, adults, refused = (cell.strip() for cell in row.strip("|").split("|")[1:5])
    framing = (REPO_ROOT / "function" / "framing.py").read_text().replace("\n", " ")
    assert (
        f"4:3 bars, {read} read correctly" in framing and f"{refused} of the radiographs refused" in framing
    )
    assert f"where the release reads {read}" in README.replace("\n", " ")
    assert f"where the release reads {read}" in MODEL_CARD
    assert f"black bars get {refused} of" in README.replace("\n", " ")
    assert (
        f"a letterboxed screenshot {adults.split('.')[0]}% (and {refused} of films are refused" in MODEL_CARD
    )
    assert f"against the release's {read},\n  refused 0.3% against {refused}" in MODEL_CARD
