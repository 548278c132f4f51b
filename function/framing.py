"""Black bars around an upload: the framing the model reads worst, noticed so the person can fix it.

A screenshot of a viewer shows the film between black bars. The release reads such uploads worse than
the films it was trained on (``bench.upload_robustness``, version ``20261207T173848Z``: 4:3 bars, 77.4%
read correctly against 95.2%, and 12.8% of the radiographs refused as "not a chest radiograph"). The
service cannot undo the bars without feeding the model something it was not trained on, so it says what
it saw and how to fix it.
Bundles trained with preprocessing version 2 (``function.imaging``) have every dark margin cut away
before the resize instead (``inside_margins``), in training and in serving alike, so the note rarely has
bars left to find for them; version 3 cuts them the same way, but only from an image this note would call
letterboxed, and leaves every other image as version 1 does.

A crop is the other framing the model reads worst (cut 8% a side: 53% of adult normals read Normal), and
no pixel rule sees it. Bundles with a ``crop_note.json`` carry a small detector for it (``CropDetector``,
trained by ``python -m training crop-note`` on synthetic crops of the bundle's fit split; its measured
rates are in that file). It runs on the same model input, and its note changes no reading either.

The bars are looked for in the model input (what the model sees, whatever the upload's size): a side
has a bar as wide as its run of outer columns (rows) in which no pixel is brighter than ``DARK_LEVEL``;
an upload is letterboxed when two opposite sides both have a bar of at least ``MIN_BAR`` of the width
(height). ``bench.black_bars`` measures both constants on the data: at 128 px, 19 of the 8057 films of
both training folders have such bars themselves (0.24%), and every letterboxed copy is caught (4:3 PNG
and JPEG 50, 16:9 JPEG 90, bars above and below), while 6 films cropped 8% a side are (0.1%). The note
changes no reading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from function.classifier import Classifier

DARK_LEVEL = 50 / 255
"""A viewer's background up to dark grey #323232 counts as a bar; a lighter one is not seen."""
MIN_BAR = 0.10
"""A 4:3 screenshot of a square film has bars of 12.5% a side; films with their own dark edges rarely
reach 10% on two opposite sides."""


@dataclass(frozen=True)
class Bars:
    """The dark bar on each side, as a share of the width (left, right) or height (top, bottom)."""

    left: float
    right: float
    top: float
    bottom: float

    @property
    def letterboxed(self) -> bool:
        """Bars on two opposite sides with a picture between them (an all-dark image has no bars)."""
        return _framed(self.left, self.right) or _framed(self.top, self.bottom)


def _framed(one_side: float, other_side: float) -> bool:
    return min(one_side, other_side) >= MIN_BAR and one_side + other_side < 1


def inside_margins(gray: np.ndarray, size: int, bars: Bars) -> tuple[slice, slice]:
    """(rows, columns) of a full-resolution (H, W) uint8 image inside the dark margins of every side.

    ``bars`` are the margins measured at ``size`` x ``size`` (``dark_bars``), where a viewer's small labels
    and JPEG noise in a bar are averaged away; each edge is then placed on the first full-resolution line
    with a pixel brighter than ``DARK_LEVEL`` inside the input line where the picture starts. A bar and a
    film's own dark edge are cut alike, so a film and a letterboxed copy of it keep the same picture. A
    side with no dark line at the input size is not cut; an image dark from side to side is kept whole."""
    height, width = gray.shape
    rows = _inside(lambda lines: gray[lines].max(axis=1), bars.top, bars.bottom, height, size)
    columns = _inside(lambda lines: gray[:, lines].max(axis=0), bars.left, bars.right, width, size)
    return rows, columns


def _inside(
    brightest: Callable[[slice], np.ndarray], start_margin: float, end_margin: float, length: int, size: int
) -> slice:
    """The lines of one axis between its two margins (fractions of ``size`` input lines)."""
    if start_margin + end_margin >= 1:
        return slice(0, length)

    def from_the_end(lines: slice) -> np.ndarray:
        return brightest(_mirrored(lines, length))[::-1]

    start = _first_bright(brightest, round(start_margin * size), length, size)
    end = length - _first_bright(from_the_end, round(end_margin * size), length, size)
    return slice(start, max(start + 1, end))


def _first_bright(brightest: Callable[[slice], np.ndarray], dark_lines: int, length: int, size: int) -> int:
    """The first full-resolution line brighter than DARK_LEVEL within input line ``dark_lines`` (the first
    one not dark); if none is (rounding), where that input line starts. No dark input line, no cut."""
    if dark_lines == 0:
        return 0
    low = dark_lines * length // size
    high = min(length, -(-(dark_lines + 1) * length // size))
    bright = np.flatnonzero(brightest(slice(low, high)) > round(DARK_LEVEL * 255))
    return low + int(bright[0]) if bright.size else low


def _mirrored(lines: slice, length: int) -> slice:
    """The same lines counted from the other end."""
    return slice(length - lines.stop, length - lines.start)


def dark_bars(model_input: np.ndarray) -> Bars:
    """The bars of a (size, size, 1) float model input in [0, 1] (``function.imaging.to_model_input``)."""
    image = model_input[..., 0]
    columns, rows = image.max(axis=0), image.max(axis=1)
    return Bars(
        left=_dark_run(columns) / columns.size,
        right=_dark_run(columns[::-1]) / columns.size,
        top=_dark_run(rows) / rows.size,
        bottom=_dark_run(rows[::-1]) / rows.size,
    )


def _dark_run(brightest: np.ndarray) -> int:
    """How many lines from the start have no pixel brighter than DARK_LEVEL."""
    bright = np.flatnonzero(brightest > DARK_LEVEL)
    return brightest.size if bright.size == 0 else int(bright[0])


CROPPED_LABEL = "cropped"
CROP_LABELS = ("whole", CROPPED_LABEL)
"""The crop detector's outputs, in order: a whole film, or one cut tight on at least one side."""


@dataclass(frozen=True)
class CropDetector:
    """A bundle's crop detector: notes an upload when P(cropped) reaches the bundle's threshold."""

    model: Classifier
    threshold: float

    def cropped(self, model_input: np.ndarray) -> bool:
        probabilities = self.model.predict(model_input[np.newaxis])[0]
        return bool(probabilities[self.model.labels.index(CROPPED_LABEL)] >= self.threshold)
