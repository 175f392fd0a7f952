"""The pack's per-recording transient limiter: recordings with sharp transients reach the pack
level with their true peak under the cap; recordings that do not need it are untouched."""

from __future__ import annotations

import numpy as np
import pytest

from studio.evaluation.clap import resample
from studio.generation.pack_limiter import limit, limited_pack_audio, needs_limiter
from studio.generation.samples import OUTPUT_RATE, SamplesBackend
from studio.generation.samples_index import read_audio
from studio.generation.samples_pack import PACK_LEVEL_LUFS, PACK_PEAK_DBFS, pack_gain
from studio.mixing.loudness import integrated_lufs, true_peak_dbtp
from studio.sounds.recordings import BY_NAME, RECORDINGS


def test_campfire_reaches_its_level_with_true_peak_under_the_cap():
    fire = BY_NAME["fireplace"]
    assert needs_limiter(fire.file)
    backend = SamplesBackend()
    clip = backend.generate("a crackling campfire", duration_s=20.0, seed=5, recording="fireplace")
    full, level = limited_pack_audio(fire.file)
    # the whole limited recording and a crop of it: at the pack level, true peak under the cap
    assert abs(integrated_lufs(full, OUTPUT_RATE) - PACK_LEVEL_LUFS) < 1.0
    assert abs(integrated_lufs(clip.samples, OUTPUT_RATE) - PACK_LEVEL_LUFS) < 1.0
    assert true_peak_dbtp(full) <= PACK_PEAK_DBFS
    assert true_peak_dbtp(clip.samples) <= PACK_PEAK_DBFS
    # the old peak-capped gain left it some 14 dB quieter
    capped = (fire.loudness_lufs + PACK_PEAK_DBFS - fire.peak_dbfs)
    assert capped < PACK_LEVEL_LUFS - 10
    # the limiter only touched transients: most of the recording passes at unit gain
    assert level.limited_fraction < 0.1 and level.max_reduction_db > 10
    chosen = backend.metadata()["chosen"][0]
    assert chosen["level"]["limited"] is True
    assert chosen["level"]["max_reduction_db"] == pytest.approx(level.max_reduction_db, abs=1e-3)
    # the crop is the same stretch of the limited recording (offset_s is rounded to 1 ms)
    near = round(chosen["offset_s"] * OUTPUT_RATE)
    assert any(np.array_equal(clip.samples, full[:, off:off + clip.frames]) for off in range(near - 48, near + 49))


def test_limiting_is_deterministic_and_float32():
    fire = BY_NAME["fireplace"]
    a, _ = limited_pack_audio(fire.file)
    limited_pack_audio.cache_clear()
    b, _ = limited_pack_audio(fire.file)
    assert a.dtype == np.float32 and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("rec", [r for r in RECORDINGS if not needs_limiter(r.file)], ids=lambda r: r.name)
def test_recordings_that_do_not_need_it_are_bit_identical(rec):
    """Loaded through the backend, they are exactly the resampled file times the level gain,
    as before the limiter existed; and the limiter itself leaves such a signal unchanged."""
    backend = SamplesBackend()
    clip = backend.generate("anything", duration_s=5.0, seed=2, recording=rec.name)
    chosen = backend.metadata()["chosen"][0]
    assert chosen["level"]["limited"] is False
    data, rate = read_audio(rec.path)
    whole = resample(data, rate, OUTPUT_RATE) * np.float32(pack_gain(rec.file))
    # the crop reads a stretch of the file with a resampler margin: equal to the whole-file
    # resample, to float32 rounding of the filter (offset_s is rounded to 1 ms)
    near = round(chosen["offset_s"] * OUTPUT_RATE)
    assert any(np.allclose(clip.samples, whole[:, off:off + clip.frames], atol=2e-6)
               for off in range(near - 48, near + 49))
    x = whole[:, : 10 * OUTPUT_RATE]
    out, stats = limit(x, 0.0, PACK_PEAK_DBFS - 0.1)
    assert out.tobytes() == x.tobytes() and stats.min_gain == 1.0


def test_only_transient_recordings_are_limited():
    limited = {r.name for r in RECORDINGS if needs_limiter(r.file)}
    assert "fireplace" in limited and "boat" in limited
    assert "coffee-shop" not in limited and "summer-night" not in limited


def test_the_limiter_stays_on_transients_even_if_the_level_is_missed():
    """The boat's knocks come every second: limiting it to the pack level would act on a fifth
    of its frames, so it gets the largest gain within the budget and sits a little lower."""
    from studio.generation.pack_limiter import MAX_LIMITED_FRACTION

    full, level = limited_pack_audio(BY_NAME["boat"].file)
    assert level.limited_fraction <= MAX_LIMITED_FRACTION
    assert PACK_LEVEL_LUFS - 3.0 < level.loudness_lufs < PACK_LEVEL_LUFS - 0.5
    assert true_peak_dbtp(full) <= PACK_PEAK_DBFS


# SHA-256 (first 16 hex digits) of a 5-s clip (seed 2) of each recording that needs no
# limiting, produced by the loader before the limiter existed (commit 79c812a): the limiter must
# not change a bit of them.
PRE_LIMITER = {"coffee-shop": "2ace10d8cdeb8fc6", "summer-night": "1cacd3d5d462f0ec"}


@pytest.mark.parametrize("name", sorted(PRE_LIMITER))
def test_unlimited_recordings_load_as_before_the_limiter(name):
    import hashlib

    clip = SamplesBackend().generate("x", duration_s=5.0, seed=2, recording=name)
    assert hashlib.sha256(clip.samples.tobytes()).hexdigest()[:16] == PRE_LIMITER[name]
