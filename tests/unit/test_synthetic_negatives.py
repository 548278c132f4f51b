"""training.synthetic_negatives: the drawn non-radiographs the consistency check's second stage trains on."""

from __future__ import annotations

import numpy as np
import pytest

from function.imaging import InputSpec, sniff_format
from training.synthetic_negatives import FAMILIES, drawn_upload, synthetic_negatives

SPEC = InputSpec(64, "1")


def test_the_draws_depend_on_the_seed_alone_and_the_held_back_stream_is_another_draw() -> None:
    """Same seed, same images; the held-back stream and another seed draw anew. Only a flat image (one
    of 256 levels) may come out the same in two draws, so the check leaves the flat family out."""
    first = synthetic_negatives(54, SPEC, seed=0, held_back=False)
    assert np.array_equal(first, synthetic_negatives(54, SPEC, seed=0, held_back=False))
    held = synthetic_negatives(54, SPEC, seed=0, held_back=True)
    other_seed = synthetic_negatives(54, SPEC, seed=1, held_back=False)
    not_flat = [i for i in range(54) if i % len(FAMILIES) != list(FAMILIES).index("uniform")]
    for drawn in (held, other_seed):
        assert not any(np.array_equal(first[i], drawn[j]) for i in not_flat for j in not_flat)


def test_the_draws_are_model_inputs_of_the_specs_size_and_range() -> None:
    drawn = synthetic_negatives(2 * len(FAMILIES), SPEC, seed=3, held_back=False)
    assert drawn.shape == (2 * len(FAMILIES), 64, 64, 1) and drawn.dtype == np.float32
    assert drawn.min() >= 0.0 and drawn.max() <= 1.0


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_family_is_an_upload_the_service_reads_and_varies_with_the_draw(family: str) -> None:
    """Written as PNG or JPEG files and read back by the upload path; ten draws of a family are not one
    image (a flat image's level is one of 256: two of ten may meet)."""
    rng = np.random.default_rng(0)
    uploads = [drawn_upload(rng, family) for _ in range(10)]
    assert {sniff_format(data) for data in uploads} <= {"PNG", "JPEG"}
    inputs = [SPEC.from_bytes(data) for data in uploads]
    assert len({x.tobytes() for x in inputs}) >= 8
