"""Test-time views: an ensemble that also reads each upload slightly zoomed in and out, and averages.

Training jitters the framing by up to 10% zoom (``training.augment``), yet one network's reading of a film
still moves with its exact framing; the mean over a few framings moves less. The view set was chosen on the
tuning split, never on validation (``bench.view_selection``): the two zooms lowered the tuning log loss of
each of five members and of their mean, and were the lowest of the sets tried for all but one member
(shifts by 4 pixels); mirror images raised it every time (docs/model-experiments.md, "Test-time views").
The views are Keras layers inside the exported model, so the served input contract, the function and the
explanation heatmap are unchanged; each view costs one more pass of every member.
"""

from __future__ import annotations

from typing import Any

VIEW_SETS: dict[str, tuple[float, ...]] = {"none": (1.0,), "zoom": (1.0, 1.06, 0.94)}


def view_layers(scale: float, size: int) -> list[Any]:
    """The layers that turn a (size, size) model input into the view at ``scale``: a bilinear resize,
    then a centred crop (zoom in) or zero padding (zoom out, as the training zoom fills with 0)."""
    from keras import layers

    if scale == 1.0:
        return []
    scaled = round(size * scale)
    resize = layers.Resizing(scaled, scaled, interpolation="bilinear", name=f"view_{scale:g}_resize")
    if scaled >= size:
        return [resize, layers.CenterCrop(size, size, name=f"view_{scale:g}_crop")]
    before = (size - scaled) // 2
    after = size - scaled - before
    return [resize, layers.ZeroPadding2D(((before, after), (before, after)), name=f"view_{scale:g}_pad")]


def views_of(image: Any, scales: tuple[float, ...]) -> list[Any]:
    """One symbolic tensor per view of the Keras input ``image`` (square, channels last)."""
    size = int(image.shape[1])
    framed = []
    for scale in scales:
        view = image
        for layer in view_layers(scale, size):
            view = layer(view)
        framed.append(view)
    return framed
