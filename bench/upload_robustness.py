"""How the served answer moves when the same radiograph arrives the way real uploads do.

    .venv/bin/python -m bench.upload_robustness models/release [--every 1] [--read-as-version 3]
    .venv/bin/python -m bench.upload_robustness models/release --ways photo

The training files are 128 px 8-bit PNGs made with one pipeline; people upload phone JPEGs, full-size
exports, RGB or 16-bit PNGs, letterboxed or tightly cropped screenshots, slightly rotated scans, darker or
brighter films, and negatives. Each validation film of the bundle (its recomputed split, verified against
``validation_files.txt``) is re-encoded each of those ways and sent through ``function.service.read_image``,
the API's own path (decode, consistency check, model, calibration, screening threshold). Per way: the share
read correctly, COVID-19 films caught, adult normals read Normal, answers refused as "not a chest
radiograph" and "indeterminate", how many answers equal the stored file's, and the share given the
"cropped" note (bundles with a crop detector; 0 for the others). Reporting only.

Two ways are *simulated* phone photographs of the film, of a monitor showing it and of the film on a light
box (``photographed``): no real photo of these films exists here, so they are a lower bound on how far a
real photo is from the file (no moiré, no reflection but one glare spot, no fingers, no phone sharpening
or HDR, held landscape only). Each is a
deterministic function of the film and a seed drawn from its pixels (``film_seed``), so reruns are
identical. ``--ways WORD ...`` runs only the ways whose names contain one of the words (and always the
stored file, which the agreement column needs), e.g. ``--ways photo``.

``--read-as-version V`` feeds the bundle's models through preprocessing version V instead of the one they
were trained with: a what-if for retraining them under V (a new version is a retrain, never a serving
patch), fair only where V and the trained version give the same inputs for the training films.
"""

from __future__ import annotations

import argparse
import dataclasses
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
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


def upscaled(gray: np.ndarray, side: int = UPSCALED_SIDE) -> np.ndarray:
    """The film enlarged to ``side`` x ``side`` (bicubic), as a full-size export of it."""
    return cv2.resize(gray, (side, side), interpolation=cv2.INTER_CUBIC)


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


PHOTO_FRAME = (1600, 1200)
"""A phone photo's frame, width x height (4:3, held landscape)."""
PHOTO_QUALITY = 85
"""The JPEG quality a phone saves at."""

Range = tuple[float, float]
"""A value drawn uniformly between the two, once per photo."""


@dataclass(frozen=True)
class PhotoSetting:
    """Where a film is when it is photographed, and how the phone sees it. Levels are of 0-255."""

    black: Range
    """The film's 0 as shown: a monitor's black in a room, a film's densest silver on a light box."""
    white: Range
    """The film's 255 as shown."""
    surround: tuple[tuple[float, Range], ...]
    """Bands around the film, inside out: (width as a share of the film's side, level)."""
    desk: Range
    """What is behind it all (the desk, the wall), with a smooth gradient across the frame."""
    tint: tuple[Range, Range, Range]
    """The colour cast: gains of the blue, green and red channels (OpenCV's order)."""
    glare: Range
    """The peak of a glare spot on the glass (0: none)."""
    glow: float
    """How much of the brightest light bleeds around it (a light box's halo on the film's edges)."""


SCREEN = PhotoSetting(
    black=(8, 20),
    white=(220, 245),
    surround=((0.04, (8, 20)), (0.05, (25, 45))),  # the viewer's black background, the monitor's bezel
    desk=(90, 150),  # the wall behind the monitor
    tint=((1.03, 1.10), (0.98, 1.02), (0.86, 0.95)),  # a screen's blue
    glare=(15, 40),
    glow=0.0,
)
LIGHT_BOX = PhotoSetting(
    black=(15, 35),
    white=(200, 235),
    surround=((0.06, (240, 255)), (0.03, (140, 180))),  # the box's lit panel, its frame
    desk=(60, 120),
    tint=((0.85, 0.93), (0.97, 1.01), (1.03, 1.08)),  # a warm lamp
    glare=(0, 0),
    glow=0.25,
)


STORED = "the stored file (8-bit PNG)"
PHOTO_OF_A_SCREEN = "photo of a screen showing it (simulated), 1600x1200 JPEG 85"
PHOTO_ON_A_LIGHT_BOX = "photo of the film on a light box (simulated), 1600x1200 JPEG 85"
PHOTOGRAPHED = (PHOTO_OF_A_SCREEN, PHOTO_ON_A_LIGHT_BOX)


def film_seed(gray: np.ndarray) -> int:
    """A seed drawn from the film's own pixels: the same film gets the same photo in every run and subset."""
    return zlib.crc32(np.ascontiguousarray(gray).tobytes())


def _drawn(rng: np.random.Generator, span: Range) -> float:
    return float(rng.uniform(*span))


def shown(gray: np.ndarray, black: float, white: float) -> np.ndarray:
    """The film as a monitor or a light box shows it: its 0-255 between a lit black and a dim white."""
    return black + gray.astype(np.float32) * ((white - black) / 255.0)


def surrounded(film: np.ndarray, bands: Sequence[tuple[int, float]]) -> np.ndarray:
    """The film inside bands of constant level, inside out: (width in pixels, level)."""
    for width, level in bands:
        film = cv2.copyMakeBorder(film, width, width, width, width, cv2.BORDER_CONSTANT, value=level)
    return film


def tilted(points: np.ndarray, degrees: Sequence[float], focal: float) -> np.ndarray:
    """Points (N, 2) of a plane, centred on the film, turned by (about x, about y, in plane) degrees and
    seen by a pinhole camera ``focal`` away: a film not quite square to the phone."""
    about_x, about_y, roll = np.radians(degrees)
    turn_x = np.array(
        [[1, 0, 0], [0, np.cos(about_x), -np.sin(about_x)], [0, np.sin(about_x), np.cos(about_x)]]
    )
    turn_y = np.array(
        [[np.cos(about_y), 0, np.sin(about_y)], [0, 1, 0], [-np.sin(about_y), 0, np.cos(about_y)]]
    )
    turn_z = np.array([[np.cos(roll), -np.sin(roll), 0], [np.sin(roll), np.cos(roll), 0], [0, 0, 1]])
    turned = np.column_stack([points, np.zeros(len(points))]) @ (turn_z @ turn_y @ turn_x).T
    return focal * turned[:, :2] / (focal + turned[:, 2:])


def framed(
    film_corners: np.ndarray, height_share: float, offset: np.ndarray, frame: tuple[int, int] = PHOTO_FRAME
) -> tuple[float, np.ndarray]:
    """The scale and shift that make the (tilted) film ``height_share`` of the frame's height, its centre
    ``offset`` (a share of the frame) from the frame's, and all of it inside the frame."""
    width, height = frame
    low, high = film_corners.min(axis=0), film_corners.max(axis=0)
    scale = min(height_share * height / (high[1] - low[1]), 0.99 * width / (high[0] - low[0]))
    centre = np.array([width, height]) * (0.5 + offset) - scale * (low + high) / 2
    lowest = 0.005 * np.array([width, height]) - scale * low
    highest = 0.995 * np.array([width, height]) - scale * high
    return scale, np.clip(centre, lowest, np.maximum(lowest, highest))


def ramp(rng: np.random.Generator, frame: tuple[int, int], strength: float) -> np.ndarray:
    """A linear gradient across the frame from ``1 - strength`` to ``1 + strength``, in a drawn direction."""
    width, height = frame
    angle = rng.uniform(0, 2 * np.pi)
    columns = np.float32(np.cos(angle)) * (np.arange(width, dtype=np.float32) / (width - 1) - 0.5)
    rows = np.float32(np.sin(angle)) * (np.arange(height, dtype=np.float32) / (height - 1) - 0.5)
    farthest = abs(columns[0]) + abs(rows[0])  # a corner's: the gradient is linear
    return 1 + (rows[:, np.newaxis] + columns[np.newaxis, :]) * np.float32(strength / farthest)


def desk(rng: np.random.Generator, level: float, frame: tuple[int, int] = PHOTO_FRAME) -> np.ndarray:
    """What is behind: ``level`` with a smooth gradient of 5-15% across the frame, in a drawn direction."""
    backdrop = ramp(rng, frame, _drawn(rng, (0.05, 0.15)))
    backdrop *= np.float32(level)
    return backdrop


def glare(rng: np.random.Generator, peak: float, frame: tuple[int, int] = PHOTO_FRAME) -> np.ndarray:
    """A soft spot of reflected light of ``peak`` levels, somewhere in the middle 80% of the frame."""
    width, height = frame
    x, y = rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height
    sigma = rng.uniform(0.06, 0.14) * width
    across = np.exp(-((np.arange(width, dtype=np.float32) - x) ** 2) / (2 * sigma**2))
    down = np.exp(-((np.arange(height, dtype=np.float32) - y) ** 2) / (2 * sigma**2))
    return np.float32(peak) * np.outer(down, across)


def halo(scene: np.ndarray, strength: float) -> np.ndarray:
    """The brightest light bleeding into its surroundings (a light box glowing over the film's edges): what
    is above 200 blurred over 2% of the frame's width (at an eighth of the size: it is smooth) and added."""
    if strength == 0:
        return scene
    height, width = scene.shape
    bright = cv2.resize(np.maximum(scene - 200, 0), (width // 8, height // 8), interpolation=cv2.INTER_AREA)
    spread = cv2.GaussianBlur(bright, (0, 0), 0.02 * width / 8)
    return scene + np.float32(strength) * cv2.resize(spread, (width, height), interpolation=cv2.INTER_LINEAR)


def sensor_noise(rng: np.random.Generator, scene: np.ndarray) -> np.ndarray:
    """Read noise and shot noise, a standard deviation of 2-4 levels mid-gray, in grains of about 2 pixels
    (drawn at half the size) and in the light only: what a phone's own denoising leaves."""
    read, shot = rng.uniform(1.5, 3.0), rng.uniform(0.02, 0.05)
    height, width = scene.shape
    grains = rng.standard_normal((height // 2, width // 2), dtype=np.float32)
    noise = cv2.resize(grains, (width, height), interpolation=cv2.INTER_LINEAR)
    # a linear upscale leaves unit noise 0.625 of its deviation
    noise *= np.sqrt(read**2 + shot * np.maximum(scene, 0)) / np.float32(0.625)
    noise += scene
    return noise


def tinted(scene: np.ndarray, gains: Sequence[float]) -> np.ndarray:
    """Gray levels -> (H, W, 3) uint8 blue, green, red with a colour cast, rounded and clipped to 0-255."""
    scene = np.maximum(scene, 0)
    return cv2.merge([cv2.convertScaleAbs(scene, alpha=gain) for gain in gains])


@dataclass(frozen=True)
class Photo:
    """A simulated phone photo of a film: the frame (H, W, 3) uint8 BGR, and where the film's corners are
    in it (top left, top right, bottom right, bottom left; x, y)."""

    frame: np.ndarray
    film_corners: np.ndarray


def photographed(gray: np.ndarray, setting: PhotoSetting, seed: int) -> Photo:
    """A phone photo of the film: upscaled as the 1024 px export, shown on ``setting``'s screen or light box
    inside its surround, tilted up to 6 degrees each way and turned up to 2 in the frame (the film 92-98%
    of the frame's height, about 60-70% of its area), over a desk, unevenly lit (and glare on a screen),
    slightly out of focus, noisy and tinted. Only the pixels, the setting and ``seed`` decide it; a film's
    two photos share its framing and tilt (the settings draw the same numbers until the desk)."""
    rng = np.random.default_rng(seed)
    film = shown(upscaled(gray), _drawn(rng, setting.black), _drawn(rng, setting.white))
    side = film.shape[0]
    bands = [(round(width * side), _drawn(rng, level)) for width, level in setting.surround]
    scene = surrounded(film, bands)
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float64)
    degrees = (rng.uniform(-6, 6), rng.uniform(-6, 6), rng.uniform(-2, 2))  # about x, about y, in plane
    focal = 1.1 * side  # a phone's ~65 degrees across, the film filling most of it
    seen_scene = tilted((square - 0.5) * scene.shape[0], degrees, focal)
    seen_film = tilted((square - 0.5) * side, degrees, focal)
    offset = rng.uniform(-0.03, 0.03, size=2)
    scale, shift = framed(seen_film, _drawn(rng, (0.92, 0.98)), offset)
    homography = cv2.getPerspectiveTransform(
        (square * scene.shape[0]).astype(np.float32), (scale * seen_scene + shift).astype(np.float32)
    )
    picture = desk(rng, _drawn(rng, setting.desk))
    picture = cv2.warpPerspective(  # the scene over the desk
        scene, homography, PHOTO_FRAME, picture, cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT
    )
    picture *= ramp(rng, PHOTO_FRAME, _drawn(rng, (0.08, 0.15)))  # uneven lighting
    if setting.glare[1] > 0:
        picture += glare(rng, _drawn(rng, setting.glare))
    picture = halo(picture, setting.glow)
    picture = cv2.GaussianBlur(picture, (0, 0), _drawn(rng, (1.0, 2.0)))  # slightly out of focus
    picture = sensor_noise(rng, picture)
    colour = tinted(picture, [_drawn(rng, gain) for gain in setting.tint])
    film_corners = scale * seen_film + shift
    return Photo(colour, film_corners)


def photo_bytes(gray: np.ndarray, setting: PhotoSetting) -> bytes:
    """The photo of the film as a phone saves it: a JPEG at ``PHOTO_QUALITY``, seeded by the film itself."""
    return jpeg_bytes(photographed(gray, setting, film_seed(gray)).frame, PHOTO_QUALITY)


UPLOADS: dict[str, Callable[[np.ndarray], bytes]] = {
    STORED: png_bytes,
    "RGB PNG": lambda gray: png_bytes(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)),
    "16-bit PNG": lambda gray: png_bytes(gray.astype(np.uint16) * 257),
    "JPEG quality 90": lambda gray: jpeg_bytes(gray, 90),
    "JPEG quality 50": lambda gray: jpeg_bytes(gray, 50),
    f"upscaled to {UPSCALED_SIDE} px, JPEG 90": lambda gray: jpeg_bytes(upscaled(gray), 90),
    "letterboxed to 4:3": lambda gray: png_bytes(letterboxed(gray)),
    "cropped 8% each side": lambda gray: png_bytes(cropped(gray)),
    f"upscaled to {UPSCALED_SIDE} px, cropped 8% each side, JPEG 90": lambda gray: jpeg_bytes(
        cropped(upscaled(gray)), 90
    ),
    "rotated 5 degrees": lambda gray: png_bytes(rotated(gray)),
    "darker (gamma 1.5)": lambda gray: png_bytes(_gamma(gray, 1.5)),
    "brighter (gamma 0.67)": lambda gray: png_bytes(_gamma(gray, 0.67)),
    "inverted (a negative)": lambda gray: png_bytes(255 - gray),
    PHOTO_OF_A_SCREEN: lambda gray: photo_bytes(gray, SCREEN),
    PHOTO_ON_A_LIGHT_BOX: lambda gray: photo_bytes(gray, LIGHT_BOX),
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


def selected_ways(words: Sequence[str] | None) -> list[str]:
    """The ways whose names contain one of ``words`` (any case), after the stored file; all without words."""
    if not words:
        return list(UPLOADS)
    for word in words:
        if not any(word.lower() in name.lower() for name in UPLOADS):
            raise ValueError(f"no way of uploading is named with {word!r}; the ways: {', '.join(UPLOADS)}")
    chosen = [name for name in UPLOADS if any(word.lower() in name.lower() for word in words)]
    return [STORED, *(name for name in chosen if name != STORED)]


def upload_robustness(
    bundle_path: Path, every: int = 1, version: str | None = None, ways: Sequence[str] | None = None
) -> str:
    loaded = load_bundle(FolderSource(bundle_path))
    trained_with = loaded.input_spec.preprocessing
    if version is not None:
        loaded = read_as_version(loaded, version)
    names = selected_ways(ways)
    _, _, prepared = prepare_as_trained(bundle_path, [TRAINING_SET, ADULT_SET])
    films = prepared.split.validation[::every]
    tallies = {name: Tally() for name in names}
    for index in films:
        example, cohort = prepared.examples[index], prepared.cohorts[index]
        gray = cv2.imread(str(example.path), cv2.IMREAD_GRAYSCALE)
        truth = loaded.labels[example.label]
        for name in names:
            label, noted_cropped = answer(loaded, UPLOADS[name](gray))
            tallies[name].add(truth, label, cohort.age == "adult", noted_cropped)
    stored = tallies[STORED]
    lines = [
        f"bundle {loaded.version}: {len(films)} validation films (every {every}), each uploaded "
        f"{len(names)} ways, read by function.service.read_image (the API's rule)"
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
    lines += [tallies[name].row(name, stored) for name in names]
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
    parser.add_argument(
        "--ways",
        nargs="+",
        metavar="WORD",
        help="only the ways whose names contain one of these words, and the stored file (default: all)",
    )
    arguments = parser.parse_args()
    try:
        names = selected_ways(arguments.ways)
    except ValueError as error:
        parser.error(str(error))
    print(upload_robustness(arguments.bundle, arguments.every, arguments.read_as_version, names))


if __name__ == "__main__":
    main()
