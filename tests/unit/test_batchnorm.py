"""training.batchnorm: every batch-norm layer ends up with the exact statistics of what it is served."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pytest

from training.batchnorm import BATCH, recompute_batchnorm

FILMS = BATCH * 2 + 37  # more than one forward batch, and a ragged last one


def _network(name: str, seed: int) -> Any:
    keras.utils.set_random_seed(seed)
    network = keras.Sequential(
        [
            keras.Input(shape=(12, 12, 1)),
            keras.layers.Conv2D(4, 3, padding="same", use_bias=False),
            keras.layers.BatchNormalization(momentum=0.9),
            keras.layers.ReLU(),
            keras.layers.Conv2D(5, 3, padding="same", use_bias=False),
            keras.layers.BatchNormalization(momentum=0.9),
            keras.layers.ReLU(),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ],
        name=name,
    )
    for layer in network.layers:  # statistics far from any the inputs could give
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(np.full(layer.moving_mean.shape, 5.0, np.float32))
            layer.moving_variance.assign(np.full(layer.moving_variance.shape, 9.0, np.float32))
            layer.gamma.assign(np.linspace(0.5, 2.0, layer.gamma.shape[0]).astype(np.float32))
            layer.beta.assign(np.linspace(-1.0, 1.0, layer.beta.shape[0]).astype(np.float32))
    return network


def _inputs(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 1.0, (FILMS, 12, 12, 1)).astype(np.float32)


def _served_inputs_of_each_batchnorm(network: Any, inputs: np.ndarray) -> list[np.ndarray]:
    """What each batch-norm layer receives when the network serves ``inputs`` (inference mode)."""
    seen, activations = [], inputs
    for layer in network.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            seen.append(activations)
        activations = np.asarray(layer(activations, training=False))
    return seen


def _assert_statistics_are_those_served(network: Any, inputs: np.ndarray) -> None:
    norms = [layer for layer in network.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer, received in zip(norms, _served_inputs_of_each_batchnorm(network, inputs), strict=True):
        np.testing.assert_allclose(
            layer.moving_mean.numpy(), received.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-5
        )
        np.testing.assert_allclose(
            layer.moving_variance.numpy(), received.var(axis=(0, 1, 2)), rtol=1e-4, atol=1e-6
        )


def test_each_layer_gets_the_exact_statistics_of_what_it_is_served_after_the_layers_before_it() -> None:
    network, inputs = _network("member", 1), _inputs()
    assert recompute_batchnorm(network, inputs) == 2
    _assert_statistics_are_those_served(network, inputs)


def test_nothing_but_the_moving_statistics_changes() -> None:
    network, inputs = _network("member", 2), _inputs(1)
    learned = {v.path: v.numpy().copy() for v in network.trainable_variables}
    recompute_batchnorm(network, inputs)
    assert {v.path: v.numpy().tolist() for v in network.trainable_variables} == {
        path: value.tolist() for path, value in learned.items()
    }


def test_an_ensembles_members_are_each_recomputed_on_the_same_films() -> None:
    members = [_network("member_1", 3), _network("member_2", 4)]
    image = keras.Input((12, 12, 1))
    ensemble = keras.Model(image, keras.layers.Average()([member(image) for member in members]))
    inputs = _inputs(2)
    assert recompute_batchnorm(ensemble, inputs) == 4
    for member in members:
        _assert_statistics_are_those_served(member, inputs)


def test_a_batchnorm_over_another_axis_than_the_channels_is_refused() -> None:
    network = keras.Sequential(
        [keras.Input(shape=(6, 6, 2)), keras.layers.BatchNormalization(axis=1), keras.layers.Flatten()]
    )
    with pytest.raises(ValueError, match="not the channels"):
        recompute_batchnorm(network, np.zeros((4, 6, 6, 2), np.float32))


def test_a_model_that_is_neither_a_network_nor_an_ensemble_of_them_is_refused() -> None:
    image = keras.Input((4,))
    model = keras.Model(image, keras.layers.Dense(3)(image))
    with pytest.raises(ValueError, match="neither"):
        recompute_batchnorm(model, np.zeros((2, 4), np.float32))
