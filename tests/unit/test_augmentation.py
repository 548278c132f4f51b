"""The screening recipe's augmentation, as ``model.fit`` receives it (training.train.fit_data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.recipes import RECIPES
from training.train import Split, TrainConfig, fit_data

SIZE = 64


def _letterboxed(image: np.ndarray) -> bool:
    """Black full-height bars on both sides with the film's top and bottom still lit: a 4:3 frame."""
    dark = image.max(axis=0) < 0.01
    middle = slice(SIZE // 2 - 4, SIZE // 2 + 4)
    return bool(
        dark[:3].all()
        and dark[-3:].all()
        and image[0, middle].min() > 0.01
        and image[-1, middle].min() > 0.01
    )


def _augmented(framing: bool, copies: int = 96) -> np.ndarray:
    inputs = np.full((copies, SIZE, SIZE, 1), 0.8, dtype=np.float32)
    labels = np.arange(copies) % 3
    split = Split(
        fit=np.arange(copies), tune=np.array([], dtype=np.int64), validation=np.array([], dtype=np.int64)
    )
    config = TrainConfig(data=[], out=Path("."), recipe="screening", augment_framing=framing)
    dataset, beside = fit_data(inputs, labels, split, config, RECIPES["screening"])
    assert beside is None  # the labels travel inside the pipeline
    return np.concatenate([np.asarray(images) for images, _ in dataset])[..., 0]


@pytest.mark.parametrize("framing", [False, True])
def test_framing_augmentation_adds_the_black_bars_of_a_screenshot(framing: bool) -> None:
    images = _augmented(framing)
    letterboxed = sum(_letterboxed(image) for image in images)
    if framing:
        assert letterboxed >= 5, letterboxed
    else:
        assert letterboxed == 0, "the release's augmentation never squeezed films between bars"


def test_the_paper_recipe_fits_on_the_plain_arrays() -> None:
    inputs, labels = np.zeros((6, 8, 8, 1), dtype=np.float32), np.arange(6) % 3
    split = Split(fit=np.array([0, 2, 4]), tune=np.array([], dtype=np.int64), validation=np.array([1, 3, 5]))
    config = TrainConfig(data=[], out=Path("."), recipe="paper")
    fit_inputs, fit_labels = fit_data(inputs, labels, split, config, RECIPES["paper"])
    np.testing.assert_array_equal(fit_labels, [0, 2, 1])
    assert fit_inputs.shape == (3, 8, 8, 1)


def test_framing_is_refused_for_a_recipe_that_does_not_augment(capsys: pytest.CaptureFixture[str]) -> None:
    """Otherwise the manifest would record a framing augmentation that never ran."""
    from training.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--data", ".", "--out", "unused", "--recipe", "paper", "--augment-framing"])
    assert exit_info.value.code == 2
    assert "--augment-framing needs a recipe that augments" in capsys.readouterr().err


def _block_shapes(aspect: bool, copies: int = 64) -> np.ndarray:
    """Width over height of a centred square block in each augmented copy."""
    inputs = np.zeros((copies, SIZE, SIZE, 1), dtype=np.float32)
    inputs[:, 22:42, 22:42] = 0.8
    labels = np.arange(copies) % 3
    split = Split(
        fit=np.arange(copies), tune=np.array([], dtype=np.int64), validation=np.array([], dtype=np.int64)
    )
    config = TrainConfig(data=[], out=Path("."), recipe="screening", augment_aspect=aspect)
    dataset, _ = fit_data(inputs, labels, split, config, RECIPES["screening"])
    shapes = []
    for image in np.concatenate([np.asarray(images) for images, _ in dataset])[..., 0]:
        rows, columns = np.nonzero(image > (image.min() + image.max()) / 2)
        shapes.append((columns.max() - columns.min() + 1) / (rows.max() - rows.min() + 1))
    return np.array(shapes)


def test_aspect_augmentation_widens_and_narrows_the_chest_within_its_range() -> None:
    plain, jittered = _block_shapes(False), _block_shapes(True)
    assert np.abs(np.log(plain)).max() < np.log(1.08), "the release's augmentation keeps a film's shape"
    assert (jittered < 0.9).sum() >= 5 and (jittered > 1.1).sum() >= 5, np.round(jittered, 2)
    assert jittered.min() > 0.8 * 0.9 and jittered.max() < 1.25 / 0.9


def test_aspect_is_refused_for_a_recipe_that_does_not_augment(capsys: pytest.CaptureFixture[str]) -> None:
    from training.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--data", ".", "--out", "unused", "--recipe", "paper", "--augment-aspect"])
    assert exit_info.value.code == 2
    assert "--augment-aspect needs a recipe that augments" in capsys.readouterr().err


def _border_dropped(
    seed: tuple[int, int], copies: int = 200, size: int = 128
) -> tuple[np.ndarray, np.ndarray]:
    """Films of noise in (0.2, 0.8) before and after ``border_dropped``: any painted pixel shows."""
    from training.augment import border_dropped

    films = np.random.default_rng(0).uniform(0.2, 0.8, (copies, size, size, 1)).astype(np.float32)
    return films[..., 0], np.asarray(border_dropped(films, seed))[..., 0]


def test_border_dropout_paints_one_gray_only_in_the_outer_band_of_about_half_the_films() -> None:
    from training.augment import BORDER_BAND

    before, after = _border_dropped((7, 3))
    size = before.shape[1]
    changed = after != before
    inner = slice(int(np.ceil(BORDER_BAND * size)), size - int(np.ceil(BORDER_BAND * size)))
    assert not changed[:, inner, inner].any(), "the centre of the film is never painted"
    rows, columns = np.nonzero(changed.any(axis=0))
    depth = np.minimum(np.minimum(rows, size - 1 - rows), np.minimum(columns, size - 1 - columns))
    assert depth.max() < BORDER_BAND * size, "bands stay within the outer 15% of each side"
    assert depth.max() >= 0.12 * size, "bands reach most of the way to 15%"
    painted = changed.any(axis=(1, 2))
    assert 0.35 < painted.mean() < 0.65, painted.mean()  # 200 films at p = 0.5: outside this is 1 in 10^4
    grays = [np.unique(after[i][changed[i]]) for i in np.flatnonzero(painted)]
    assert all(len(gray) == 1 for gray in grays), "one gray per film"
    grays_drawn = np.concatenate(grays)
    assert grays_drawn.min() < 0.1 and grays_drawn.max() > 0.9, "grays span [0, 1], not the film's mean"
    for side in (
        changed[:, 0, size // 2],
        changed[:, -1, size // 2],
        changed[:, size // 2, 0],
        changed[:, size // 2, -1],
    ):
        assert 0.2 < side[painted].mean() < 0.999, "each side drawn on its own, some bands of width 0"


def test_border_dropout_is_repeatable_under_its_seed() -> None:
    _, first = _border_dropped((7, 3))
    _, again = _border_dropped((7, 3))
    _, other = _border_dropped((8, 3))
    np.testing.assert_array_equal(first, again)
    assert (first != other).any()


def _border_pipeline(border: bool, init_seed: int, copies: int = 64) -> np.ndarray:
    """Uniform 0.8 films through the screening recipe's pipeline (fit_data) with or without the bands,
    seeded as training seeds it (training.repeatable), so the rest of the augmentation draws alike."""
    from training.repeatable import make_repeatable

    make_repeatable(init_seed)
    inputs = np.full((copies, SIZE, SIZE, 1), 0.8, dtype=np.float32)
    split = Split(
        fit=np.arange(copies), tune=np.array([], dtype=np.int64), validation=np.array([], dtype=np.int64)
    )
    config = TrainConfig(
        data=[], out=Path("."), recipe="screening", init_seed=init_seed, augment_border=border
    )
    dataset, _ = fit_data(inputs, np.arange(copies) % 3, split, config, RECIPES["screening"])
    return np.concatenate([np.asarray(images) for images, _ in dataset])[..., 0]


def test_augment_border_reaches_the_training_pipeline_repeatably() -> None:
    """Under one seed the rest of the augmentation draws the same, so what --augment-border changes is
    its bands alone: on some films, only in the outer 15%, the same again under the same seed."""
    plain, first = _border_pipeline(False, 1), _border_pipeline(True, 1)
    np.testing.assert_array_equal(plain, _border_pipeline(False, 1))
    changed = first != plain
    painted = changed.any(axis=(1, 2)).sum()
    assert 5 <= painted <= len(first) - 5, painted
    inner = slice(int(np.ceil(0.15 * SIZE)), SIZE - int(np.ceil(0.15 * SIZE)))
    assert not changed[:, inner, inner].any()
    np.testing.assert_array_equal(first, _border_pipeline(True, 1))


def test_border_is_refused_for_a_recipe_that_does_not_augment(capsys: pytest.CaptureFixture[str]) -> None:
    from training.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--data", ".", "--out", "unused", "--recipe", "paper", "--augment-border"])
    assert exit_info.value.code == 2
    assert "--augment-border needs a recipe that augments" in capsys.readouterr().err
