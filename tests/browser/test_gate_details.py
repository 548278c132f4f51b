"""The page with a bundle whose consistency check has a learned second stage: its score is shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from infra.stack_process import local_stack
from tests.browser.test_page import RESULT, api_answer, choose_and_diagnose, open_page
from tests.gate_bundles import mean_brightness_model, reference_size, with_stage2
from tests.upload_samples import COVID_RADIOGRAPH

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_second_stage_score_is_in_the_technical_details(page: Page, tmp_path: Path) -> None:
    model = mean_brightness_model(reference_size())
    bundle = with_stage2(tmp_path / "bundle", model, 0.05)
    with local_stack(bundle, log_name="local-stack-stage2") as url:
        answer = api_answer(url, COVID_RADIOGRAPH)
        assert answer["result"] == "diagnosis"
        shown = f"{answer['consistency']['frontal_probability']:.3f}".replace(".", ",")
        open_page(page, url)
        choose_and_diagnose(page, COVID_RADIOGRAPH)

        details = page.locator(f"{RESULT} .result-details")
        line = f"Probabilidad de radiografía de tórax frontal (segundo control): {shown}"
        expect(details).to_contain_text(f"{line} (mínimo aceptado: 0,050)")
