"""How the served answer moves when the same radiograph arrives the way real uploads do.

    .venv/bin/python -m bench.upload_robustness models/release [--every 1] [--read-as-version 3]

The training files are 128 px 8-bit PNGs made with one pipeline; people upload phone JPEGs, full-size
exports, RGB or 16-bit PNGs, letterboxed or tightly cropped screenshots, slightly rotated scans, darker or
brighter films, and negatives. Each validation film of the bundle (its recomputed split, verified against
``validation_files.txt``) is re-encoded each of those ways and sent through ``function.service.read_image``,
the API's own path (decode, consistency check, model, calibration, screening threshold). Per way: the share
read correctly, COVID-19 films caught, adult normals read Normal, answers refused as "not a chest
radiograph" and "indeterminate", how many answers equal the stored file's, and the share given the
"cropped" note (bundles with a crop detector; 0 for the others). Reporting only.

``--read-as-version V`` feeds the bundle's models through preprocessing version V instead of the one they
were trained with: a what-if for retraining them under V (a new version is a retrain, never a serving
patch), fair only where V and the trained version give the same inputs for the training films.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from function.bundle import FolderSource, LoadedBundle, load_bundle
from function.imaging import PREPROCESSING_VERSIONS, InputSpec
from function.service import read_image
from infra.locations import ADULT_SET, TRAINING_SET
from training.bundle_split import prepare_as_trained
from training.crop_note import cut

UPSCALED_SIDE = 1024


def png_bytes(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()


def jpeg_bytes(image: np.ndarray, quality: int) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def _gamma(gray: np.ndarray, gamma: float) -> np.ndarray:
    table = np.round(255.0 * (np.arange(256) / 255.0) ** gamma).astype(np.uint8)
    return table[gray]


def letterboxed(gray: np.ndarray) -> np.ndarray:
    """Black bars left and right to a 4:3 landscape frame, as a screenshot of a viewer shows a film."""
    height, width = gray.shape
    bar = (round(height * 4 / 3) - width) // 2
    return cv2.copyMakeBorder(gray, 0, 0, bar, bar, cv2.BORDER_CONSTANT, value=0)


def cropped(gray: np.ndarray, fraction: float = 0.08) -> np.ndarray:
    """A tight crop: ``fraction`` of the side cut away on every edge (markers and corners gone)."""
    return cut(gray, (fraction,) * 4)


def rotated(gray: np.ndarray, degrees: float = 5.0) -> np.ndarray:
    """Turned about the centre, corners filled black, as a crooked scan of a film."""
    height, width = gray.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(gray, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=0)


UPLOADS: dict[str, Callable[[np.ndarray], bytes]] = {
    "the stored file (8-bit PNG)": png_bytes,
    "RGB PNG": lambda gray: png_bytes(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)),
    "16-bit PNG": lambda gray: png_bytes(gray.astype(np.uint16) * 257),
    "JPEG quality 90": lambda gray: jpeg_bytes(gray, 90),
    "JPEG quality 50": lambda gray: jpeg_bytes(gray, 50),
    f"upscaled to {UPSCALED_SIDE} px, JPEG 90": lambda gray: jpeg_bytes(
        cv2.resize(gray, (UPSCALED_SIDE, UPSCALED_SIDE), interpolation=cv2.INTER_CUBIC), 90
    ),
    "letterboxed to 4:3": lambda gray: png_bytes(letterboxed(gray)),
    "cropped 8% each side": lambda gray: png_bytes(cropped(gray)),
    f"upscaled to {UPSCALED_SIDE} px, cropped 8% each side, JPEG 90": lambda gray: jpeg_bytes(
        cropped(cv2.resize(gray, (UPSCALED_SIDE, UPSCALED_SIDE), interpolation=cv2.INTER_CUBIC)), 90
    ),
    "rotated 5 degrees": lambda gray: png_bytes(rotated(gray)),
    "darker (gamma 1.5)": lambda gray: png_bytes(_gamma(gray, 1.5)),
    "brighter (gamma 0.67)": lambda gray: png_bytes(_gamma(gray, 0.67)),
    "inverted (a negative)": lambda gray: png_bytes(255 - gray),
}
"""Each way an upload of the same film can arrive: stored 8-bit grayscale in, file bytes out."""


@dataclass
class Tally:
    """Answers to one way of uploading, film by film (the truth and the answer: a label, or a refusal)."""

    answers: list[str] = field(default_factory=list)
    truth: list[str] = field(default_factory=list)
    adult: list[bool] = field(default_factory=list)
    noted_cropped: list[bool] = field(default_factory=list)

    def add(self, truth: str, answer: str, adult: bool, noted_cropped: bool = False) -> None:
        self.truth.append(truth)
        self.answers.append(answer)
        self.adult.append(adult)
        self.noted_cropped.append(noted_cropped)

    def row(self, name: str, stored: Tally) -> str:
        n = len(self.answers)
        counts = Counter(self.answers)
        correct = sum(a == t for a, t in zip(self.answers, self.truth, strict=True))
        covid = [a for a, t in zip(self.answers, self.truth, strict=True) if t == "COVID-19"]
        rows = zip(self.answers, self.truth, self.adult, strict=True)
        normals = [a for a, t, adult in rows if t == "Normal" and adult]
        same = sum(a == b for a, b in zip(self.answers, stored.answers, strict=True))
        cells = [
            f"{correct / n:.1%}",
            f"{covid.count('COVID-19') / len(covid):.1%}" if covid else "-",
            f"{normals.count('Normal') / len(normals):.1%}" if normals else "-",
            f"{counts['not_chest_xray'] / n:.1%}",
            f"{counts['indeterminate'] / n:.1%}",
            f"{same / n:.1%}",
            f"{sum(self.noted_cropped) / n:.1%}",
        ]
        return f"| {name} | " + " | ".join(cells) + " |"


def answer(bundle: LoadedBundle, upload: bytes) -> tuple[str, bool]:
    """The label the API reads, or ``not_chest_xray`` / ``indeterminate``; and whether it notes a crop."""
    response = read_image(bundle, upload)
    label = response.diagnosis if response.result == "diagnosis" and response.diagnosis else response.result
    return label, any(note.code == "cropped" for note in response.notes)


def read_as_version(loaded: LoadedBundle, version: str) -> LoadedBundle:
    """The same bundle, its models fed through preprocessing ``version`` (checked: a known one)."""
    InputSpec(loaded.input_size, version)
    return dataclasses.replace(loaded, manifest={**loaded.manifest, "preprocessing_version": version})


def upload_robustness(bundle_path: Path, every: int = 1, version: str | None = None) -> str:
    loaded = load_bundle(FolderSource(bundle_path))
    trained_with = loaded.input_spec.preprocessing
    if version is not None:
        loaded = read_as_version(loaded, version)
    _, _, prepared = prepare_as_trained(bundle_path, [TRAINING_SET, ADULT_SET])
    films = prepared.split.validation[::every]
    tallies = {name: Tally() for name in UPLOADS}
    for index in films:
        example, cohort = prepared.examples[index], prepared.cohorts[index]
        gray = cv2.imread(str(example.path), cv2.IMREAD_GRAYSCALE)
        truth = loaded.labels[example.label]
        for name, encode in UPLOADS.items():
            label, noted_cropped = answer(loaded, encode(gray))
            tallies[name].add(truth, label, cohort.age == "adult", noted_cropped)
    stored = tallies["the stored file (8-bit PNG)"]
    lines = [
        f"bundle {loaded.version}: {len(films)} validation films (every {every}), each uploaded "
        f"{len(UPLOADS)} ways, read by function.service.read_image (the API's rule)"
        + (
            f", its models fed through preprocessing version {version} (trained with {trained_with})"
            if version is not None
            else ""
        ),
        "",
        "| upload | read correctly | COVID-19 caught | adult normals read Normal | "
        'not a chest radiograph | indeterminate | same answer as the stored file | "cropped" note |',
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [tally.row(name, stored) for name, tally in tallies.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--every", type=int, default=1, help="every Nth validation film (default: all)")
    parser.add_argument(
        "--read-as-version",
        choices=sorted(PREPROCESSING_VERSIONS),
        help="feed the models through this preprocessing version (a what-if, not how the bundle is served)",
    )
    arguments = parser.parse_args()
    print(upload_robustness(arguments.bundle, arguments.every, arguments.read_as_version))


if __name__ == "__main__":
    main()
