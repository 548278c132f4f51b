"""The networks a recipe or ``train --architecture`` can name: the CLI's list matches the builders, and
each takes the served input contract and answers one probability per label."""

from __future__ import annotations

import numpy as np
import pytest

from function.bundle_format import LABELS
from training.model import ARCHITECTURES
from training.recipes import ARCHITECTURE_NAMES, RECIPES


def test_the_cli_offers_exactly_the_networks_that_exist() -> None:
    assert tuple(ARCHITECTURES) == ARCHITECTURE_NAMES
    assert {recipe.architecture for recipe in RECIPES.values()} <= set(ARCHITECTURE_NAMES)


@pytest.mark.parametrize("name", ARCHITECTURE_NAMES)
def test_each_network_maps_a_batch_of_model_inputs_to_probabilities(name: str) -> None:
    model = ARCHITECTURES[name](64)
    batch = np.random.default_rng(0).random((2, 64, 64, 1), dtype=np.float32)
    probabilities = np.asarray(model(batch, training=False))
    assert probabilities.shape == (2, len(LABELS))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_the_fullres_network_convolves_the_input_at_full_resolution_where_the_plain_one_strides() -> None:
    plain, fullres = ARCHITECTURES["screening-cnn"](128), ARCHITECTURES["screening-cnn-fullres"](128)
    assert plain.layers[0].output.shape[1:3] == (64, 64)
    assert fullres.layers[0].output.shape[1:3] == (128, 128)
    assert fullres.layers[3].output.shape[1:3] == (128, 128)  # the second full-resolution convolution
