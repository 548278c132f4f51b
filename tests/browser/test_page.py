"""The public page in a real Chromium against `make run`'s stack: what a person sees for each kind of upload.

Each reading shown is compared with what the API answers for the same file, so the page can neither
invent nor distort a result. Screenshots of every state go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
from pathlib import Path

import cv2
import httpx2
import numpy as np
import pytest
from PIL import Image, ImageOps
from playwright.sync_api import Browser, Locator, Page, Request, expect

from bench.upload_robustness import cropped, jpeg_bytes, letterboxed, png_bytes
from function.image_errors import SEND_A_RADIOGRAPH  # the API's advice, in both languages
from function.service import percent  # the page writes probabilities exactly as the API message does
from infra.cfn_yaml import load_template
from infra.locations import ADULT_SET, NOT_CHEST, RELEASE_BUNDLE, REPO_ROOT, TRAINING_SET
from infra.page_driver import DESKTOP, RESULT
from infra.stack_process import local_stack, local_stack_process
from tests.browser.conftest import PageWatch, screenshot

pytestmark = pytest.mark.browser

SPANISH_LABELS = {"Normal": "Normal", "COVID-19": "COVID-19", "Viral Pneumonia": "Neumonía viral"}
NOT_CHEST_ES = "La imagen no es una radiografía de tórax"
ERROR_KINDS = (
    "too_large",
    "too_many_pixels",
    "unreadable",
    "unsupported",
    "too_small",
    "invalid",
    "unavailable",
    "busy",
    "rate_limited",
    "server",
    "network",
    "timeout",
    "unexpected",
    "foreign_format",  # the page's own refusals, the service never answers them
    "animated",
)
CANDIDATES = 40
"""How many files (in name order) may be tried to find one the API answers in the way a test needs."""


def api_answer(url: str, path: Path) -> dict:
    response = httpx2.post(
        f"{url}/diagnose", json={"image": base64.b64encode(path.read_bytes()).decode()}, timeout=60
    )
    assert response.status_code == 200, response.text
    return response.json()


def error_card(page: Page, kind: str, code: str | None = None, says: str = "") -> Locator:
    """The error card shown: the page's kind of error, the API's code (if it answered), a phrase of its
    main sentence."""
    card = page.locator(RESULT)
    expect(card).to_have_attribute("data-error", kind)
    if code is not None:
        expect(card).to_have_attribute("data-code", code)
    if says:
        expect(card.locator(".error-message")).to_contain_text(says)
    return card


def pick(url: str, files: list[Path], wanted, preferred=None) -> tuple[Path, dict]:
    """The first file (by name) whose API answer satisfies ``wanted``, and ``preferred`` too if one does.

    A fixed choice, not a random one. These tests check that the page shows what the API says; whether
    the model reads the file correctly is the evaluation's business, so ``preferred`` is only a preference.
    """
    answers = []
    for path in sorted(files, key=lambda p: p.name)[:CANDIDATES]:
        answer = api_answer(url, path)
        if wanted(answer) and (preferred is None or preferred(answer)):
            return path, answer
        answers.append((path, answer))
    for path, answer in answers:
        if wanted(answer):
            return path, answer
    pytest.fail(f"none of the first {CANDIDATES} files in {files[0].parent} gives the answer this test needs")


def images(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg")]


def open_page(page: Page, url: str) -> None:
    page.goto(url + "/")
    expect(page.locator("#diagnose")).to_be_visible()


def choose_and_diagnose(page: Page, path: Path) -> list[Request]:
    """Upload through the file input, press Diagnosticar, wait for the card; return the /diagnose requests."""
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request) if request.url.endswith("/diagnose") else None)
    page.set_input_files("#file-input", str(path))
    expect(page.locator("#file-name")).to_have_text(path.name)
    expect(page.locator("#diagnose")).to_have_attribute("aria-disabled", "false")
    page.click("#diagnose")
    page.wait_for_selector(RESULT, timeout=60_000)
    return sent


def sent_image(request: Request) -> bytes:
    return base64.b64decode(json.loads(request.post_data or "{}")["image"])


def shown_probabilities(page: Page) -> dict[str, tuple[float, str]]:
    rows = page.locator(f"{RESULT} .prob")
    return {
        rows.nth(i).get_attribute("data-label"): (
            float(rows.nth(i).get_attribute("data-probability")),
            rows.nth(i).locator(".prob-value").inner_text(),
        )
        for i in range(rows.count())
    }


# ---------------------------------------------------------------------------------------------- readings


@pytest.mark.parametrize(("folder", "label"), [("COVID", "COVID-19"), ("Normal", "Normal")])
def test_radiograph_reading_matches_the_api(page: Page, stack_url: str, folder: str, label: str) -> None:
    path, answer = pick(
        stack_url,
        images(TRAINING_SET / folder / "images"),
        wanted=lambda a: a["result"] == "diagnosis",
        preferred=lambda a: a["diagnosis"] == label,
    )
    open_page(page, stack_url)
    sent = choose_and_diagnose(page, path)

    assert len(sent) == 1 and sent_image(sent[0]) == path.read_bytes(), "a small image must be sent unchanged"
    card = page.locator(RESULT)
    expect(card).to_have_attribute("data-state", "diagnosis")
    heading = card.locator(".result-heading")
    expect(heading).to_have_attribute("data-diagnosis", answer["diagnosis"])
    expect(heading).to_have_text(SPANISH_LABELS[answer["diagnosis"]])
    expect(card.locator(".result-message")).to_have_text(answer["message"])
    shown = shown_probabilities(page)
    assert list(shown) == ["Normal", "COVID-19", "Viral Pneumonia"]
    for name, probability in answer["probabilities"].items():
        assert shown[name][0] == pytest.approx(probability, abs=1e-12)
        assert shown[name][1] == percent(probability, "es")
    expect(card.locator(".prob.is-top")).to_have_attribute("data-label", answer["diagnosis"])
    expect(card.locator(".result-details")).to_contain_text(answer["model_version"])
    # announced and focused: the card sits in the aria-live region and its heading takes the focus
    expect(page.locator("#result-region")).to_have_attribute("aria-live", "polite")
    assert page.evaluate("document.activeElement.id") == "result-heading"
    expect(page.locator("#disclaimer")).to_be_visible()
    # and said again in the card itself, outside the folded technical details
    expect(card.locator(".result-disclaimer")).to_be_visible()
    expect(card.locator(".result-disclaimer")).to_contain_text("no un diagnóstico")
    desktop = screenshot(page, f"diagnosis-{folder.lower()}")
    if folder == "COVID" and os.environ.get("CXR_UPDATE_README_SCREENSHOT"):
        shutil.copyfile(desktop, REPO_ROOT / "docs" / "screenshot.png")


@pytest.mark.parametrize("kind", ["photo", "ct"])
def test_not_a_chest_radiograph_shows_the_alert(page: Page, stack_url: str, kind: str) -> None:
    path, answer = pick(stack_url, images(NOT_CHEST / kind), lambda a: a["result"] == "not_chest_xray")
    open_page(page, stack_url)
    choose_and_diagnose(page, path)

    card = page.locator(RESULT)
    expect(card).to_have_attribute("data-state", "not_chest_xray")
    expect(card.locator(".result-heading")).to_have_text(NOT_CHEST_ES)
    assert answer["message"] == NOT_CHEST_ES
    expect(card.locator(".prob")).to_have_count(0)
    screenshot(page, f"not-chest-{kind}")


def test_a_dicom_whose_header_says_ct_shows_why_in_both_languages(
    page: Page, stack_url: str, tmp_path: Path
) -> None:
    """A real chest film in a DICOM file whose header says CT: refused, and the card says the file said so."""
    from tests.upload_samples import dicom

    source, _ = pick(
        stack_url, images(TRAINING_SET / "Normal" / "images"), lambda a: a["result"] == "diagnosis"
    )
    with Image.open(source) as film:
        upload = tmp_path / "serie-3.dcm"
        upload.write_bytes(dicom(np.asarray(film.convert("L")), modality="CT"))
    assert api_answer(stack_url, upload)["consistency"]["dicom_header"] == "Modality CT"
    open_page(page, stack_url)
    choose_and_diagnose(page, upload)

    card = page.locator(RESULT)
    expect(card).to_have_attribute("data-state", "not_chest_xray")
    expect(card.locator(".result-dicom-header")).to_have_text(
        "El propio archivo DICOM lo indica: Modality CT."
    )
    screenshot(page, "not-chest-dicom-header")
    page.click("#lang-toggle")
    expect(card.locator(".result-dicom-header")).to_have_text("The DICOM file says so itself: Modality CT.")
    expect(page.locator(RESULT).locator(".prob")).to_have_count(0)


def test_indeterminate_answer_shows_probabilities_without_a_reading(
    page: Page, unsure_stack_url: str
) -> None:
    radiograph = sorted(images(TRAINING_SET / "Normal" / "images"))[0]
    answer = api_answer(unsure_stack_url, radiograph)
    assert answer["result"] == "indeterminate"
    open_page(page, unsure_stack_url)
    choose_and_diagnose(page, radiograph)

    card = page.locator(RESULT)
    expect(card).to_have_attribute("data-state", "indeterminate")
    expect(card.locator(".result-heading")).to_have_text("Resultado no concluyente")
    expect(card.locator(".result-heading")).not_to_have_attribute("data-diagnosis", re.compile(".*"))
    expect(card.locator(".result-message")).to_contain_text("no tiene suficiente confianza")
    shown = shown_probabilities(page)
    assert {name: value for name, (value, _) in shown.items()} == pytest.approx(answer["probabilities"])
    screenshot(page, "indeterminate")


def test_a_screening_threshold_reading_says_it_was_flagged(page: Page, stack_url: str) -> None:
    """A reading chosen by the release's flag threshold (about 1 healthy adult in 22 gets one) names the
    class and says why it is not the most probable one."""
    radiograph, answer = pick(
        stack_url,
        images(ADULT_SET / "Normal" / "images"),
        lambda a: a["result"] == "diagnosis" and a["decision"] == "screening_threshold",
    )
    open_page(page, stack_url)
    choose_and_diagnose(page, radiograph)

    card = page.locator(RESULT)
    expect(card.locator(".result-heading")).to_have_attribute("data-diagnosis", answer["diagnosis"])
    expect(card.locator(".result-flag")).to_contain_text("umbral de cribado")
    expect(card.locator(f'.prob[data-label="{answer["diagnosis"]}"]')).to_have_class(re.compile("is-top"))
    screenshot(page, "screening-threshold")


def test_a_plain_reading_has_no_flag_note(page: Page, stack_url: str) -> None:
    radiograph, answer = pick(
        stack_url,
        images(TRAINING_SET / "Normal" / "images"),
        lambda a: a["result"] == "diagnosis" and a["decision"] == "most_probable",
    )
    open_page(page, stack_url)
    choose_and_diagnose(page, radiograph)
    expect(page.locator(RESULT).locator(".result-heading")).to_have_attribute(
        "data-diagnosis", answer["diagnosis"]
    )
    expect(page.locator(RESULT).locator(".result-flag")).to_have_count(0)
    expect(page.locator(RESULT).locator(".result-note")).to_have_count(0)


def test_a_screenshot_with_black_bars_shows_the_note_in_both_languages(
    page: Page, stack_url: str, tmp_path: Path
) -> None:
    radiograph, _ = pick(
        stack_url, images(TRAINING_SET / "Normal" / "images"), lambda a: a["result"] == "diagnosis"
    )
    framed = tmp_path / "screenshot.png"
    with Image.open(radiograph) as film:
        framed.write_bytes(png_bytes(letterboxed(np.asarray(film.convert("L")))))
    answer = api_answer(stack_url, framed)
    assert [note["code"] for note in answer["notes"]] == ["black_bars"]
    open_page(page, stack_url)
    choose_and_diagnose(page, framed)

    note = page.locator(RESULT).locator('.result-note[data-note="black_bars"]')
    expect(note).to_have_text(answer["notes"][0]["message"])
    screenshot(page, "black-bars-note")
    page.click("#lang-toggle")
    expect(note).to_have_text(answer["notes"][0]["message_en"])


def test_a_cropped_film_shows_the_crop_note_in_both_languages(
    page: Page, stack_url: str, tmp_path: Path
) -> None:
    """The released crop detector's note, from the page: a crop of a full-size export of an adult normal
    (the upload the release misreads most), 860 px, so the page sends the file as it is."""
    crops = []
    for source in sorted(images(ADULT_SET / "Normal" / "images"))[:5]:
        with Image.open(source) as film:
            export = cv2.resize(np.asarray(film.convert("L")), (1024, 1024), interpolation=cv2.INTER_CUBIC)
        crops.append(tmp_path / f"cropped-{source.stem}.jpg")
        crops[-1].write_bytes(jpeg_bytes(cropped(export), 90))
    crop, answer = pick(stack_url, crops, lambda a: "cropped" in [note["code"] for note in a["notes"]])
    open_page(page, stack_url)
    sent = choose_and_diagnose(page, crop)
    assert len(sent) == 1 and sent_image(sent[0]) == crop.read_bytes()

    message = next(note for note in answer["notes"] if note["code"] == "cropped")
    note = page.locator(RESULT).locator('.result-note[data-note="cropped"]')
    expect(note).to_have_text(message["message"])
    screenshot(page, "cropped-note")
    page.click("#lang-toggle")
    expect(note).to_have_text(message["message_en"])


def test_dicom_is_sent_as_it_is(page: Page, stack_url: str) -> None:
    from pydicom.data import get_testdata_file

    path = Path(get_testdata_file("CT_small.dcm"))
    open_page(page, stack_url)
    expect(page.locator("#preview-placeholder")).to_be_hidden()
    sent = choose_and_diagnose(page, path)
    assert len(sent) == 1 and sent_image(sent[0]) == path.read_bytes()
    expect(page.locator("#preview-placeholder")).to_contain_text("DICOM")
    answer = api_answer(stack_url, path)
    expect(page.locator(RESULT)).to_have_attribute("data-state", answer["result"])


def assert_sent_redrawn(
    page: Page, stack_url: str, sent: list[Request], image_format: str, size: tuple[int, int], tmp_path: Path
) -> bytes:
    """One request, carrying the picture redrawn at ``size`` as ``image_format``; the page shows what the
    API answers for exactly those bytes. Returns them."""
    assert len(sent) == 1
    uploaded_bytes = sent_image(sent[0])
    with Image.open(io.BytesIO(uploaded_bytes)) as uploaded:
        assert (uploaded.format, uploaded.size) == (image_format, size)
    as_uploaded = tmp_path / f"as-uploaded.{image_format.lower()}"
    as_uploaded.write_bytes(uploaded_bytes)
    expect(page.locator(RESULT)).to_have_attribute("data-state", api_answer(stack_url, as_uploaded)["result"])
    return uploaded_bytes


def test_large_image_is_scaled_down_in_the_browser(page: Page, stack_url: str, tmp_path: Path) -> None:
    source = sorted(images(TRAINING_SET / "Normal" / "images"))[0]
    large = tmp_path / "large-radiograph.png"
    Image.open(source).convert("L").resize((2048, 1536), Image.Resampling.BICUBIC).save(large)
    open_page(page, stack_url)
    page.set_input_files("#file-input", str(large))
    expect(page.locator("#file-details")).to_contain_text("1024 × 768")
    sent = choose_and_diagnose(page, large)
    assert_sent_redrawn(page, stack_url, sent, "PNG", (1024, 768), tmp_path)


def test_a_large_jpeg_is_sent_as_a_1024_px_jpeg(page: Page, stack_url: str, tmp_path: Path) -> None:
    """A phone photo of a film: redrawn in the canvas, sent as JPEG (not a PNG several times its size)."""
    source = sorted(images(ADULT_SET / "Normal" / "images"))[0]
    photo = tmp_path / "foto-placa.jpg"
    with Image.open(source) as film:
        photo.write_bytes(jpeg_bytes(cv2.resize(np.asarray(film.convert("L")), (4096, 3072)), 90))
    open_page(page, stack_url)
    sent = choose_and_diagnose(page, photo)
    assert_sent_redrawn(page, stack_url, sent, "JPEG", (1024, 768), tmp_path)


def test_a_redrawn_png_over_the_upload_limit_is_sent_as_jpeg(
    page: Page, stack_url: str, tmp_path: Path
) -> None:
    """With a deployment's lower limit (config.js), a redrawn PNG too large to send goes as JPEG instead."""
    limit = 300_000
    page.route(
        "**/config.js",
        lambda route: route.fulfill(
            content_type="text/javascript",
            body=f'window.CXR_CONFIG = {{ apiBaseUrl: "", maxUploadBytes: {limit} }};',
        ),
    )
    source = sorted(images(ADULT_SET / "Normal" / "images"))[0]
    large = tmp_path / "large-radiograph.png"
    with Image.open(source) as film:
        large.write_bytes(png_bytes(cv2.resize(np.asarray(film.convert("L")), (2048, 2048))))
    assert large.stat().st_size > limit
    open_page(page, stack_url)
    sent = choose_and_diagnose(page, large)
    assert len(assert_sent_redrawn(page, stack_url, sent, "JPEG", (1024, 1024), tmp_path)) <= limit


def test_a_gif_is_sent_as_a_png_of_the_same_pixels(page: Page, stack_url: str, tmp_path: Path) -> None:
    """A teaching site's GIF: the service reads no GIF, so the page sends its one frame as a PNG, every grey
    of the palette kept (no colour management, no smoothing on the way through the canvas)."""
    source, _ = pick(
        stack_url, images(TRAINING_SET / "COVID" / "images"), lambda a: a["result"] == "diagnosis"
    )
    gif = tmp_path / "caso-docente.gif"
    with Image.open(source) as film:
        gray = np.asarray(film.convert("L"))
    # the comment holds the bytes that start a frame (",") and a frame's timing ("!\xf9"): only a reader
    # that walks the blocks by their lengths does not count them
    Image.fromarray(gray).save(gif, comment=b"Caso 12, PA ,\x00\x00 !\xf9\x04\x00")
    with Image.open(gif) as stored:
        assert (stored.format, stored.n_frames) == ("GIF", 1)
        frame = np.asarray(stored.convert("RGB"))
    assert (frame == gray[..., None]).all(), "the GIF holds the film's own greys"
    open_page(page, stack_url)
    page.set_input_files("#file-input", str(gif))
    expect(page.locator("#file-details")).to_contain_text("se convertirá a PNG")
    sent = choose_and_diagnose(page, gif)

    uploaded_bytes = assert_sent_redrawn(page, stack_url, sent, "PNG", gray.shape[::-1], tmp_path)
    expect(page.locator(RESULT)).to_have_attribute("data-state", "diagnosis")
    with Image.open(io.BytesIO(uploaded_bytes)) as uploaded:
        pixels = np.asarray(uploaded.convert("RGBA"))
    assert (pixels[..., 3] == 255).all()
    np.testing.assert_array_equal(pixels[..., :3], frame)


# ---------------------------------------------------------------------------------------------- errors


def test_text_file_gives_a_clear_error(page: Page, stack_url: str, tmp_path: Path) -> None:
    notes = tmp_path / "notas.txt"
    notes.write_text("Esto no es una imagen.\n")
    open_page(page, stack_url)
    choose_and_diagnose(page, notes)

    card = error_card(
        page, "unsupported", "unsupported_media_type", "Ese tipo de archivo no se puede analizar"
    )
    expect(card).to_have_attribute("data-state", "error")
    expect(card.locator(".result-heading")).to_have_text("No se pudo analizar la imagen")
    assert "{" not in card.inner_text(), "no raw JSON in front of the person"
    screenshot(page, "error-unsupported")

    card.locator(".result-details summary").click()  # the server's own sentence, in the page's language
    expect(card.locator(".error-detail")).to_contain_text(SEND_A_RADIOGRAPH[0])
    page.click("#lang-toggle")
    expect(card.locator(".error-message")).to_contain_text("That type of file cannot be analysed")
    expect(card.locator(".error-detail")).to_contain_text(SEND_A_RADIOGRAPH[1])
    expect(card.locator(".result-details")).to_have_attribute("open", "")


def test_a_phone_photo_the_browser_cannot_open_is_explained_not_sent(
    page: Page, stack_url: str, tmp_path: Path
) -> None:
    """Chromium opens no HEIC (an iPhone's photos); the service reads none either, so nothing is sent."""
    photo = tmp_path / "IMG_0001.HEIC"
    photo.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(2000))
    open_page(page, stack_url)
    sent = choose_and_diagnose(page, photo)

    expect(page.locator("#preview-placeholder")).to_contain_text("no puede abrir este formato")
    expect(page.locator("#preview-placeholder")).not_to_contain_text("se enviará")
    assert sent == [], "a format neither the browser nor the service reads is not uploaded"
    card = error_card(page, "foreign_format", says="HEIC")
    expect(card.locator(".error-message")).to_contain_text("JPEG o PNG")
    expect(card.locator(".result-again")).to_be_visible()


def test_an_animated_gif_is_explained_not_cut_to_its_first_frame(
    page: Page, stack_url: str, tmp_path: Path
) -> None:
    """The canvas draws an animation's first frame only, which may not be the film meant: nothing is sent."""
    source = sorted(images(TRAINING_SET / "Normal" / "images"))[0]
    animation = tmp_path / "secuencia.gif"
    with Image.open(source) as film:
        gray = film.convert("L")
    gray.save(animation, save_all=True, append_images=[ImageOps.invert(gray)], duration=800, loop=0)
    with Image.open(animation) as stored:
        assert stored.n_frames == 2
    open_page(page, stack_url)
    sent = choose_and_diagnose(page, animation)

    assert sent == [], "no frame of an animation is uploaded"
    expect(page.locator("#preview-image")).to_be_visible()
    card = error_card(page, "animated", says="Este GIF es una animación")
    expect(card.locator(".error-message")).to_contain_text("(PNG o JPEG)")
    expect(card.locator(".result-again")).to_be_visible()
    screenshot(page, "error-animated-gif")
    page.click("#lang-toggle")
    expect(card.locator(".error-message")).to_contain_text("This GIF is an animation")


def test_oversized_file_is_refused_before_upload(page: Page, stack_url: str, tmp_path: Path) -> None:
    """Just over the API's limit (function/settings.py DEFAULT_MAX_UPLOAD_BYTES): the page knows it too."""
    from function.settings import DEFAULT_MAX_UPLOAD_BYTES

    big = tmp_path / "estudio.dcm"
    big.write_bytes(b"\0" * 128 + b"DICM" + b"\0" * (DEFAULT_MAX_UPLOAD_BYTES - 132 + 100_000))
    open_page(page, stack_url)
    sent = choose_and_diagnose(page, big)

    assert sent == [], "a file over the limit that cannot be scaled down is not uploaded"
    error_card(page, "too_large", says="4,5 MB")
    screenshot(page, "error-too-large")


def test_service_unavailable_is_explained(page: Page, tmp_path: Path) -> None:
    """A real 503: a stack whose bundle fails its hash check."""
    tampered = tmp_path / "bundle"
    shutil.copytree(RELEASE_BUNDLE, tampered)
    model = tampered / "model.tflite"
    model.write_bytes(model.read_bytes()[:-1] + b"\0")
    radiograph = sorted(images(TRAINING_SET / "Normal" / "images"))[0]
    with local_stack(tampered, log_name="local-stack-tampered") as url:
        assert httpx2.get(f"{url}/health", timeout=30).status_code == 503
        open_page(page, url)
        choose_and_diagnose(page, radiograph)

        card = error_card(page, "unavailable", "bundle_unavailable", "El servicio no está disponible")
        expect(card.locator(".result-details")).to_contain_text("HTTP 503")
        screenshot(page, "error-unavailable")
        sent: list[Request] = []
        page.on(
            "request", lambda request: sent.append(request) if request.url.endswith("/diagnose") else None
        )
        card.locator(".result-retry").click()  # same file again, still refused while the bundle is bad
        error_card(page, "unavailable", "bundle_unavailable")
        assert len(sent) == 1


def test_the_per_client_limit_is_explained_without_a_retry_button(page: Page, stack_url: str) -> None:
    """The WAF's 429 (it cannot run here: its answer exactly as infra/waf.yaml writes it) says to wait
    minutes, unlike the API's own throttling, and offers no immediate retry."""
    waf = load_template(REPO_ROOT / "infra" / "waf.yaml")
    (acl,) = waf["Resources"].values()
    (rule,) = acl["Properties"]["Rules"]
    response = rule["Action"]["Block"]["CustomResponse"]
    body = acl["Properties"]["CustomResponseBodies"][response["CustomResponseBodyKey"]]
    window = str(waf["Parameters"]["EvaluationWindowSeconds"]["Default"])
    radiograph = sorted(images(TRAINING_SET / "Normal" / "images"))[0]
    open_page(page, stack_url)
    page.route(
        "**/diagnose",
        lambda route: route.fulfill(
            status=response["ResponseCode"],
            content_type="application/json",
            headers={"retry-after": window},
            body=body["Content"],
        ),
    )
    choose_and_diagnose(page, radiograph)
    card = error_card(page, "rate_limited", "rate_limited", "Espere unos minutos")
    expect(card.locator(".result-retry")).to_have_count(0)
    expect(card.locator(".error-detail")).to_have_count(0)  # the WAF says the page's sentence


def test_an_image_of_too_many_pixels_says_so_not_the_file_size(
    page: Page, stack_url: str, tmp_path: Path
) -> None:
    """A small TIFF (Chromium cannot open it, so it is sent as it is) of 81 megapixels: the API's 413
    image_too_large, which the page must not explain as a file over 4,5 MB."""
    tiff = tmp_path / "escaneo.tif"
    Image.new("1", (9000, 9000), 1).save(tiff, compression="group4")
    assert tiff.stat().st_size < 100_000
    open_page(page, stack_url)
    choose_and_diagnose(page, tiff)
    card = error_card(page, "too_many_pixels", "image_too_large", "demasiados píxeles")
    expect(card.locator(".error-message")).not_to_contain_text("MB")


def test_network_failure_is_explained(page: Page, stack_url: str) -> None:
    radiograph = sorted(images(TRAINING_SET / "Normal" / "images"))[0]
    open_page(page, stack_url)
    page.route("**/diagnose", lambda route: route.abort("internetdisconnected"))
    choose_and_diagnose(page, radiograph)
    error_card(page, "network", says="No se pudo conectar con el servicio")


# ---------------------------------------------------------------------------------------------- interaction


def test_language_switch_persists_and_translates_the_result(page: Page, stack_url: str) -> None:
    path, answer = pick(
        stack_url, images(TRAINING_SET / "Normal" / "images"), lambda a: a["result"] == "diagnosis"
    )
    open_page(page, stack_url)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("h1")).to_have_text("Analice una radiografía de tórax")
    expect(page.locator("#disclaimer")).to_contain_text("no un diagnóstico")
    choose_and_diagnose(page, path)

    page.click("#lang-toggle")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Check a chest radiograph")
    expect(page.locator("#diagnose")).to_have_text("Diagnose")
    expect(page.locator("#disclaimer")).to_contain_text("not a diagnosis")
    expect(page.locator("#lang-toggle")).to_have_text("Español")
    card = page.locator(RESULT)
    expect(card.locator(".result-message")).to_have_text(answer["message_en"])
    expect(card.locator(".result-disclaimer")).to_contain_text("not a diagnosis")
    english = {"Normal": "Normal", "COVID-19": "COVID-19", "Viral Pneumonia": "Viral pneumonia"}
    expect(card.locator(".result-heading")).to_have_text(english[answer["diagnosis"]])
    top = answer["probabilities"][answer["diagnosis"]]
    expect(card.locator(".prob.is-top .prob-value")).to_have_text(percent(top, "en"))
    screenshot(page, "diagnosis-english")

    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Check a chest radiograph")
    page.click("#lang-toggle")
    expect(page.locator("h1")).to_have_text("Analice una radiografía de tórax")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "es")


HEADINGS = {"es": "Analice una radiografía de tórax", "en": "Check a chest radiograph"}


@pytest.mark.parametrize(
    ("browser_locale", "language"), [("en-US", "en"), ("en-GB", "en"), ("es-MX", "es"), ("fr-FR", "es")]
)
def test_a_first_visit_opens_in_the_browsers_language_and_the_switch_wins_after(
    browser: Browser, stack_url: str, browser_locale: str, language: str
) -> None:
    """English browsers get English, Spanish ones and those preferring neither Spanish (the paper's
    language); once the switch is used, its choice is kept over the browser's."""
    context = browser.new_context(viewport=DESKTOP, locale=browser_locale)
    try:
        page = context.new_page()
        watch = PageWatch(page)
        open_page(page, stack_url)
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("h1")).to_have_text(HEADINGS[language])
        page.click("#lang-toggle")
        other = "en" if language == "es" else "es"
        page.reload()
        expect(page.locator("html")).to_have_attribute("lang", other)
        expect(page.locator("h1")).to_have_text(HEADINGS[other])
        assert not watch.page_errors, watch.page_errors
    finally:
        context.close()


def test_the_html_before_any_script_says_what_the_spanish_page_says(browser: Browser, stack_url: str) -> None:
    """index.html's own text is what a browser without JavaScript (or before the scripts run) shows: every
    translated element must hold the Spanish message, the disclaimer above all."""
    shown = "Array.from(document.querySelectorAll('[data-i18n]')).map(e => [e.dataset.i18n, e.textContent])"
    texts = []
    for scripts in (False, True):
        context = browser.new_context(viewport=DESKTOP, locale="es-ES", java_script_enabled=scripts)
        try:
            page = context.new_page()
            page.goto(stack_url + "/")
            if scripts:
                expect(page.locator("#diagnose")).to_be_visible()
            texts.append({key: " ".join(text.split()) for key, text in page.evaluate(shown)})
        finally:
            context.close()
    static, rendered = texts
    assert "disclaimerText" in static
    assert {key: text for key, text in static.items() if rendered.get(key) != text} == {}


def test_every_text_exists_in_both_languages(page: Page, stack_url: str) -> None:
    open_page(page, stack_url)
    spanish, english = (page.evaluate(f"window.CXR_I18N.keys('{lang}')") for lang in ("es", "en"))
    assert set(spanish) == set(english)
    scripts = "".join(path.read_text() for path in sorted((REPO_ROOT / "frontend").glob("*.js")))
    literal = {key for key in re.findall(r'i18n\.t\("([^"]+)"', scripts) if not key.endswith(".")}
    markup = set(re.findall(r'data-i18n="([^"]+)"', (REPO_ROOT / "frontend" / "index.html").read_text()))
    used = literal | markup | {f"error.{kind}" for kind in ERROR_KINDS}
    assert used <= set(spanish), sorted(used - set(spanish))


def test_drag_and_drop_chooses_the_file(page: Page, stack_url: str) -> None:
    radiograph = sorted(images(TRAINING_SET / "Normal" / "images"))[0]
    open_page(page, stack_url)
    data = base64.b64encode(radiograph.read_bytes()).decode()
    transfer = page.evaluate_handle(
        """([data, name]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "image/png" }));
            return transfer;
        }""",
        [data, radiograph.name],
    )
    page.dispatch_event("#dropzone", "dragenter", {"dataTransfer": transfer})
    expect(page.locator("#dropzone")).to_have_class("dropzone is-dragging")
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    expect(page.locator("#file-name")).to_have_text(radiograph.name)
    expect(page.locator("#preview-image")).to_be_visible()
    expect(page.locator("#dropzone")).to_have_class("dropzone")
    screenshot(page, "chosen")
    page.click("#diagnose")
    expect(page.locator(RESULT)).to_have_attribute("data-state", api_answer(stack_url, radiograph)["result"])


def test_keyboard_only(page: Page, stack_url: str) -> None:
    radiograph = sorted(images(TRAINING_SET / "Normal" / "images"))[0]
    open_page(page, stack_url)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "choose":
            break
    assert page.evaluate("document.activeElement.id") == "choose"
    # Enter on the button opens the file input's chooser (what the OS dialog then does is the browser's job)
    page.evaluate(
        """() => { window.__chooserOpened = 0; document.getElementById("file-input")
                     .addEventListener("click", () => { window.__chooserOpened += 1; }); }"""
    )
    page.keyboard.press("Enter")
    assert page.evaluate("window.__chooserOpened") == 1
    page.set_input_files("#file-input", str(radiograph))
    expect(page.locator("#file-name")).to_have_text(radiograph.name)
    while page.evaluate("document.activeElement.id") != "diagnose":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector(RESULT, timeout=60_000)
    assert page.evaluate("document.activeElement.id") == "result-heading"


def test_diagnose_waits_for_a_file(page: Page, stack_url: str) -> None:
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request) if request.url.endswith("/diagnose") else None)
    open_page(page, stack_url)
    expect(page.locator("#diagnose")).to_have_attribute("aria-disabled", "true")
    expect(page.locator("#diagnose-hint")).to_have_text("Primero elija una imagen.")
    page.focus("#diagnose")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)  # room for a request that must not happen
    expect(page.locator(RESULT)).to_have_count(0)
    assert sent == []
    screenshot(page, "empty")


# ---------------------------------------------------------------------------------------------- make run


def test_local_stack_prints_its_url_and_stops_on_ctrl_c() -> None:
    with local_stack_process(log_name="local-stack-lifecycle") as stack:
        assert f"Chest X-ray screening: {stack.url}/" in stack.log()
        assert "s3://" in stack.log() and "on S3 server http://127.0.0.1:" in stack.log()
        health = httpx2.get(f"{stack.url}/health", timeout=30).json()
        assert health["loaded"] is True
        assert httpx2.get(f"{stack.url}/docs").status_code == 200
    assert stack.returncode == 0, stack.log()[-2000:]
    assert "Stopped the web server and the S3 server." in stack.log()
    with pytest.raises(httpx2.TransportError):
        httpx2.get(f"{stack.url}/health", timeout=5)


# ---------------------------------------------------------------------------------------------- security


def test_page_headers(stack_url: str) -> None:
    page_response = httpx2.get(stack_url + "/")
    csp = page_response.headers["content-security-policy"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]
    assert page_response.headers["x-content-type-options"] == "nosniff"
    assert page_response.headers["referrer-policy"] == "no-referrer"
    # The page is served under the deployed CloudFront policy, so these tests run under it too.
    policy = load_template(REPO_ROOT / "template.yaml")["Resources"]["SiteSecurityHeaders"]["Properties"][
        "ResponseHeadersPolicyConfig"
    ]
    deployed = policy["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    deployed_directives = {part.split()[0]: part.split()[1:] for part in deployed.split(";") if part.strip()}
    assert directives == deployed_directives and directives["connect-src"] == ["'self'"]
    for custom in policy["CustomHeadersConfig"]["Items"]:
        assert page_response.headers[custom["Header"]] == custom["Value"]
    for response in (page_response, httpx2.get(stack_url + "/health"), httpx2.get(stack_url + "/app.js")):
        assert "server" not in response.headers
    for path in sorted((REPO_ROOT / "frontend").iterdir()):  # every file the page is made of
        text = path.read_text()
        assert "innerHTML" not in text and "outerHTML" not in text and "insertAdjacentHTML" not in text
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text


def test_csp_violations_would_be_caught(page_watch: tuple[Page, PageWatch], stack_url: str) -> None:
    """The watch that every other test relies on does see a violation: inject an inline script."""
    page, watch = page_watch
    open_page(page, stack_url)
    page.evaluate(
        """() => { const s = document.createElement("script"); s.textContent = "window.__ran = true";
                   document.body.appendChild(s); }"""
    )
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__ran === undefined"), "the inline script must not run"
    assert page.evaluate("window.__cspViolations")[0].startswith("script-src")
    for _ in range(100):  # the console message may arrive a little after the event
        if watch.console_csp:
            break
        page.wait_for_timeout(50)
    assert watch.console_csp, "the console watch saw the violation too"
