"""Images that are plainly not radiographs, through a bundle's served API: how many does it still read?

    .venv/bin/python -m bench.drawn_images models/release

Two sets made without ``training/synthetic_negatives.py``, to judge a gate trained on its images (a flat
image is one of 256 levels whoever draws it: "flat 255" equals one of the generator's training draws): a
hand-made probe (flat images at five levels, ramps, a radial blob, stripes, checkerboards, noise, smoothed
noise, clouds, a test pattern's gray bars, a white page with specks; 23 in all, 256x256 PNG), and every
file of pydicom's own test data whose header leaves the decision to the pixels (no Modality, or a
projection radiography code such as OT: secondary captures, mostly the DICOM toolkits' test patterns) and
that the API decodes. Each is posted to the app as an upload; the table says what came back.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import cv2
import numpy as np

from function.dicom_header import PROJECTION_RADIOGRAPHY

SIDE = 256


def hand_made_probe() -> dict[str, bytes]:
    """The 23 probe images as PNG files, by name."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    images: dict[str, np.ndarray] = {f"flat {v}": np.full((SIDE, SIDE), v) for v in (0, 30, 128, 200, 255)}
    images["ramp left-right"] = xx * 255 / (SIDE - 1)
    images["ramp top-bottom"] = yy * 255 / (SIDE - 1)
    images["radial blob"] = 255 - np.clip(np.hypot(xx - SIDE / 2, yy - SIDE / 2) * 2, 0, 255)
    for period in (8, 16, 32, 64):
        images[f"horizontal stripes {period}"] = (yy // period) % 2 * 200 + 30
    for period in (8, 32, 64):
        images[f"vertical stripes {period}"] = (xx // period) % 2 * 200 + 30
    for cell in (8, 32, 64):
        images[f"checkerboard {cell}"] = ((xx // cell) + (yy // cell)) % 2 * 200 + 30
    images["noise"] = rng.integers(0, 256, (SIDE, SIDE))
    images["smoothed noise"] = cv2.GaussianBlur(
        rng.integers(0, 256, (SIDE, SIDE)).astype(np.uint8), (0, 0), 8
    )
    clouds = cv2.GaussianBlur(rng.normal(size=(SIDE, SIDE)).astype(np.float32), (0, 0), 20)
    images["clouds"] = (clouds - clouds.min()) * 255 / np.ptp(clouds)
    bars = np.zeros((SIDE, SIDE))
    for index, level in enumerate([70, 160, 150, 200, 25, 130, 0, 70, 190, 190]):
        bars[index * SIDE // 10 : (index + 1) * SIDE // 10] = level
    images["gray bars"] = bars
    page = np.full((SIDE, SIDE), 240)
    page[rng.integers(0, SIDE, 20), rng.integers(0, SIDE, 20)] = 0
    images["white page, specks"] = page
    return {
        name: cv2.imencode(".png", np.clip(image, 0, 255).astype(np.uint8))[1].tobytes()
        for name, image in images.items()
    }


def pydicom_pixel_decided() -> dict[str, bytes]:
    """pydicom's test files whose header leaves the reading to the pixels, by file name."""
    import pydicom

    files = {}
    for path in sorted((Path(pydicom.__file__).parent / "data" / "test_files").glob("*.dcm")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                modality = pydicom.dcmread(path, stop_before_pixels=True, force=True).get("Modality")
            except Exception:
                continue
        if not modality or modality in PROJECTION_RADIOGRAPHY:
            files[path.name] = path.read_bytes()
    return files


def read_all(bundle: Path, uploads: dict[str, bytes]) -> dict[str, str]:
    """What the app answers to each upload: a reading, "not_chest_xray", "indeterminate", or the 4xx code."""
    from tests.api_support import make_client, post_image

    client = make_client(bundle)
    answers = {}
    for name, data in uploads.items():
        body = post_image(client, data).json()
        answers[name] = body.get("diagnosis") or body.get("result") or body["error"]["code"]
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    args = parser.parse_args()
    for title, uploads in (
        ("hand-made probe", hand_made_probe()),
        ("pydicom test data", pydicom_pixel_decided()),
    ):
        answers = read_all(args.bundle, uploads)
        gated = {
            name: answer
            for name, answer in answers.items()
            if answer in ("not_chest_xray", "indeterminate", "Normal", "COVID-19", "Viral Pneumonia")
        }
        read = sorted(name for name, answer in gated.items() if answer != "not_chest_xray")
        print(f"{title}: {len(uploads)} images, {len(gated)} reached the check, {len(read)} read anyway")
        for name in read:
            print(f"  read: {name}: {answers[name]}")
        refused_before = sorted(set(answers) - set(gated))
        if refused_before:
            named = ", ".join(f"{name} ({answers[name]})" for name in refused_before)
            print(f"  refused before the check (4xx): {named}")


if __name__ == "__main__":
    main()
