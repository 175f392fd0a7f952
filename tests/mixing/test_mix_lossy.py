"""Lossy exports (OGG, MP3) keep the master's true-peak ceiling after decoding."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from studio.export import export_mix_bytes, export_soundscape
from studio.mixing import integrated_lufs, render_soundscape
from studio.mixing.lossy import (
    LOUDNESS_TOLERANCE_LU, MARGIN_DB, MAX_ATTEMPTS, MAX_MAKEUP_DB, Decoded, encode_within_ceiling, limited, measure_decoded,
)
from studio.types import LayerSource

SR = 48_000


@pytest.fixture(scope="module")
def loud():
    """Ocean surf from the procedural engine mastered to the streaming preset (-14 LUFS at -1 dBTP): both codecs
    decode it over the ceiling when it is encoded as mastered."""
    from studio.generation.procedural.backend import ProceduralBackend
    from studio.types import LayerSpec, MasterSpec, ScenePlan

    spec = LayerSpec(name="surf", role="background", prompt="ocean surf", params={"type": "ocean_surf"}, seed=1)
    plan = ScenePlan(style="focus", duration_s=20.0, seed=1, layers=(spec,),
                     master=MasterSpec(target_lufs=-14.0, ceiling_dbtp=-1.0, fade_in_s=0.5, fade_out_s=0.5))
    clip = ProceduralBackend().generate("ocean surf", duration_s=20.0, seed=1, type="ocean_surf")
    return render_soundscape(plan, [LayerSource(spec, (clip,), "procedural")])


def _encode(sc, fmt, headroom_db, makeup_db=0.0):
    import io

    from studio.export import LOSSY_COMPRESSION_LEVEL, MIX_FORMATS

    major, _, sub = MIX_FORMATS[fmt]
    buf = io.BytesIO()
    with sf.SoundFile(buf, "w", samplerate=SR, channels=2, format=major, subtype=sub,
                      compression_level=LOSSY_COMPRESSION_LEVEL[fmt]) as f:
        for chunk in limited(sc.iter_mix(), sc.plan.master.ceiling_dbtp, headroom_db, SR, makeup_db):
            f.write(np.ascontiguousarray(chunk.T))
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["ogg", "mp3"])
def test_lossy_mix_decodes_under_the_ceiling(loud, tmp_path, fmt):
    ceiling = loud.plan.master.ceiling_dbtp
    # The problem this solves: the mastered mix, encoded as it is, decodes over the ceiling.
    assert measure_decoded(_encode(loud, fmt, 0.0)).true_peak_dbtp > ceiling + 0.05
    paths = export_soundscape(loud, tmp_path, manifest={}, mix_format=fmt, loop_ready=True)
    report = json.loads(paths["manifest"].read_text())["export"]
    assert paths.manifest["export"] == report  # returned as written: no need to read it back
    reference = loud.master["integrated_lufs"]
    for key, name in (("mix_lossy", "mix"), ("mix_loop_lossy", "mix_loop")):
        measured = measure_decoded(paths[name])
        assert measured.true_peak_dbtp <= ceiling + 1e-3
        rep = report[key]
        assert rep["within_ceiling"] is True and rep["ceiling_dbtp"] == ceiling and rep["headroom_db"] >= 1.0
        assert rep["decoded_true_peak_dbtp"] == pytest.approx(measured.true_peak_dbtp, abs=1e-3)
        assert rep["decoded_lufs"] == pytest.approx(measured.lufs, abs=1e-3)
    # ... and close to the lossless mix's loudness (make-up gain into the limiter), honestly reported.
    mix = measure_decoded(paths["mix"])
    assert reference - 1.0 <= mix.lufs <= reference + LOUDNESS_TOLERANCE_LU
    assert report["mix_lossy"]["loudness_kept"] is bool(mix.lufs >= reference - LOUDNESS_TOLERANCE_LU)
    assert report["mix_lossy"]["reference_lufs"] == pytest.approx(reference, abs=1e-3)
    # Cross-check the decoded measurement with an independent one on the whole file.
    data, _ = sf.read(paths["mix"], dtype="float32")
    assert integrated_lufs(data.T, SR) == pytest.approx(mix.lufs, abs=0.01)
    # No temp file (the raw mix, discarded attempts) is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CREDITS.txt", "manifest.json", f"mix-loop.{fmt}", f"mix.{fmt}", "stems"]
    assert export_mix_bytes(loud, fmt) == paths["mix"].read_bytes()


def test_lossless_exports_have_no_lossy_report(loud, tmp_path):
    paths = export_soundscape(loud, tmp_path, manifest={}, mix_format="flac")
    assert "mix_lossy" not in json.loads(paths["manifest"].read_text())["export"]


def _run(peaks_lufs, reference_lufs=-14.0):
    measured = iter([Decoded(p, l) for p, l in peaks_lufs])
    tried, dropped = [], []
    result, report = encode_within_ceiling(
        lambda h, m: tried.append((h, m)) or f"take{len(tried)}", lambda _: next(measured), -1.0, reference_lufs,
        discard=dropped.append,
    )
    return result, report, tried, dropped


def test_headroom_grows_by_the_overshoot_and_earlier_takes_are_discarded():
    result, report, tried, dropped = _run([(0.4, -14.0), (-0.6, -14.1), (-1.5, -14.2)])
    assert result == "take3" and dropped == ["take1", "take2"]
    assert tried[0] == (1.0, 0.0)
    assert tried[1] == pytest.approx((1.0 + 1.4 + MARGIN_DB, 0.0))
    assert tried[2] == pytest.approx((tried[1][0] + 0.4 + MARGIN_DB, 0.0))
    assert report.within_ceiling and report.loudness_kept and report.attempts == 3 and report.note() is None
    assert report.as_dict()["decoded_true_peak_dbtp"] == -1.5 and report.as_dict()["decoded_lufs"] == -14.2


def test_lost_loudness_is_made_up_and_a_take_over_the_ceiling_never_wins():
    # take 1 too quiet, take 2 louder but over the ceiling, take 3 under and loud enough
    result, report, tried, dropped = _run([(-1.3, -15.0), (-0.9, -14.2), (-1.2, -14.3)])
    assert tried[1] == pytest.approx((1.0, 1.0)) and tried[2] == pytest.approx((1.0 + 0.1 + MARGIN_DB, 1.0))
    assert result == "take3" and sorted(dropped) == ["take1", "take2"] and report.makeup_db == pytest.approx(1.0)
    # when every louder take is over the ceiling, the quiet one under it is kept
    result, report, _, _ = _run([(-1.3, -15.0)] + [(-0.5, -14.0)] * (MAX_ATTEMPTS - 1))
    assert result == "take1" and report.within_ceiling and not report.loudness_kept
    assert report.note() == "the decoded file measures -15.0 LUFS, quieter than the master's -14.0 LUFS, to stay under the ceiling"
    assert report.attempts == MAX_ATTEMPTS


def test_make_up_gain_is_capped():
    result, report, tried, _ = _run([(-1.5, -20.0)] * MAX_ATTEMPTS)
    assert max(m for _, m in tried) == MAX_MAKEUP_DB and len(tried) == 2  # stops once capped
    assert report.within_ceiling and not report.loudness_kept


def test_an_encoder_that_never_gets_under_keeps_the_lowest_peak_and_says_so():
    result, report, tried, _ = _run([(0.5, -14.0), (0.2, -14.0), (0.9, -14.0), (0.4, -14.0), (0.3, -14.0)])
    assert len(tried) == MAX_ATTEMPTS and result == "take2" and not report.within_ceiling
    assert report.as_dict()["within_ceiling"] is False
    assert report.as_dict()["note"] == "the decoded file peaks at 0.2 dBTP, over the -1.0 dBTP ceiling; a WAV or FLAC mix keeps the master exact"


def test_a_failing_encode_leaves_nothing_behind():
    dropped = []

    def encode(h, m):
        if h > 1.0:
            raise OSError("disk full")
        return "take1"

    with pytest.raises(OSError):
        encode_within_ceiling(encode, lambda _: Decoded(0.0, -14.0), -1.0, -14.0, discard=dropped.append)
    assert dropped == ["take1"]


def test_streamed_true_peak_equals_the_whole_signal_whatever_the_blocks(tmp_path):
    """A peak right at a block join is measured with its real neighbours (no ringing from a
    block that seems to stop dead), so block size never changes the answer."""
    from studio.mixing.loudness import TruePeakMeter, true_peak_dbtp

    n = 2 * SR
    t = np.arange(n) / SR
    phase = np.pi / 2 - 2 * np.pi * 40.0 * (65_535 + 0.37) / SR  # a crest between frames at a join
    x = np.stack([0.8 * np.sin(2 * np.pi * 40.0 * t + phase), 0.5 * np.sin(2 * np.pi * 40.0 * t)]).astype(np.float32)
    whole = true_peak_dbtp(x)
    path = tmp_path / "sine.wav"
    sf.write(path, x.T, SR, subtype="FLOAT")
    for block in (1 << 16, 4096, 1000, 7):
        assert measure_decoded(path, block_frames=block).true_peak_dbtp == pytest.approx(whole, abs=1e-6)
    rng = np.random.default_rng(0)
    meter, pos = TruePeakMeter(), 0
    while pos < n:
        step = int(rng.integers(1, 5_000))
        meter.feed(x[:, pos : pos + step])
        pos += step
    assert meter.dbtp() == pytest.approx(whole, abs=1e-6)
    assert TruePeakMeter().dbtp() == float("-inf")
