"""Master presets, and the streaming WAV writer."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from studio.errors import ExportError, InputError
from studio.mixing import MASTER_PRESETS, apply_preset
from studio.mixing.wav import WavWriter
from studio.types import MasterSpec


def test_presets():
    assert (MASTER_PRESETS["spotify"].target_lufs, MASTER_PRESETS["spotify"].ceiling_dbtp) == (-14.0, -1.0)
    assert (MASTER_PRESETS["youtube"].target_lufs, MASTER_PRESETS["youtube"].ceiling_dbtp) == (-14.0, -1.0)
    assert (MASTER_PRESETS["apple-podcasts"].target_lufs, MASTER_PRESETS["apple-podcasts"].ceiling_dbtp) == (-16.0, -1.0)
    assert "custom" in MASTER_PRESETS
    spec = apply_preset(MasterSpec(target_lufs=-23.0, fade_in_s=9.0), "spotify")
    assert (spec.target_lufs, spec.ceiling_dbtp, spec.preset, spec.fade_in_s) == (-14.0, -1.0, "spotify", 9.0)
    custom = apply_preset(MasterSpec(), "custom", target_lufs=-20.0, ceiling_dbtp=-2.0)
    assert (custom.target_lufs, custom.ceiling_dbtp) == (-20.0, -2.0)
    with pytest.raises(InputError, match="unknown master preset 'tidal'; choose one of: spotify"):
        apply_preset(MasterSpec(), "tidal")
    with pytest.raises(InputError, match="invalid master settings"):
        apply_preset(MasterSpec(), "custom", target_lufs=3.0)


@pytest.mark.parametrize("subtype, tol", [("PCM_24", 1.0 / 2**23), ("PCM_16", 1.6 / 2**15), ("FLOAT", 0.0)])
def test_wav_writer_roundtrips_through_soundfile(rng, subtype, tol):
    x = (rng.uniform(-0.99, 0.99, (2, 10_001))).astype(np.float32)
    buf = io.BytesIO()
    w = WavWriter(buf, 48_000, 2, x.shape[1], subtype, {"title": "Rain", "comment": "style=sleep; seed=3"})
    w.write(x[:, :4_000])
    w.write(x[:, 4_000:])
    w.close()
    buf.seek(0)
    with sf.SoundFile(buf) as f:
        assert (f.samplerate, f.channels, f.frames, f.subtype) == (48_000, 2, 10_001, subtype)
        assert f.title == "Rain" and "seed=3" in f.comment
        y = f.read(dtype="float64").T
    assert np.abs(y - x).max() <= tol + 1e-9


def test_wav_bytes_do_not_depend_on_chunking(rng):
    x = (rng.uniform(-0.5, 0.5, (2, 9_999))).astype(np.float32)
    out = []
    for step in (9_999, 1_000, 777):
        buf = io.BytesIO()
        w = WavWriter(buf, 48_000, 2, x.shape[1], "PCM_16")
        for s in range(0, x.shape[1], step):
            w.write(x[:, s : s + step])
        w.close()
        out.append(buf.getvalue())
    assert out[0] == out[1] == out[2]


def test_wav_writer_refuses_wrong_lengths():
    w = WavWriter(io.BytesIO(), 48_000, 2, 10, "PCM_24")
    with pytest.raises(ExportError, match="more frames"):
        w.write(np.zeros((2, 11), np.float32))
    w.write(np.zeros((2, 5), np.float32))
    with pytest.raises(ExportError, match="incomplete: 5 of 10"):
        w.close()


@pytest.mark.parametrize("n", [0, 1, 3, 4, 5, 8, 4099])
def test_pack24_is_the_low_three_bytes_of_each_sample(rng, n):
    from studio.mixing.wav import _pack24

    v = rng.integers(-(2**23), 2**23, n).astype(np.int32)
    v[: min(n, 3)] = np.array([-(2**23), 2**23 - 1, -1], np.int32)[: min(n, 3)]
    expected = v.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].reshape(-1)
    assert _pack24(v).tobytes() == expected.tobytes()
