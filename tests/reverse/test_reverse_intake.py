"""Audio intake: the four formats at any rate/channel count, and a corpus of broken files that
each end in one clear line (rc 2, no traceback) through the CLI."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from studio.cli import main
from studio.errors import AudioError
from studio.reverse.intake import load_audio, load_excerpts, probe_audio
from tests.reverse.broken_audio import broken_corpus


@pytest.mark.parametrize("fmt,ext", [("WAV", "wav"), ("FLAC", "flac"), ("OGG", "ogg"), ("MP3", "mp3")])
@pytest.mark.parametrize("rate,channels", [(8_000, 1), (44_100, 2), (96_000, 6)])
def test_formats_rates_and_channels(tmp_path, fmt, ext, rate, channels):
    if fmt == "MP3" and (rate > 48_000 or channels > 2):
        pytest.skip("MP3 holds at most 2 channels at 48 kHz")
    if fmt == "OGG" and channels > 2:
        channels = 2
    t = np.arange(int(1.5 * rate)) / rate
    x = np.stack([0.3 * np.sin(2 * np.pi * (300 + 100 * c) * t) for c in range(channels)], axis=1).astype(np.float32)
    path = tmp_path / f"tone.{ext}"
    sf.write(path, x, rate, format=fmt)
    info = probe_audio(path)
    assert (info.format, info.sample_rate, info.channels) == (fmt, rate, channels)
    clip = load_audio(path)
    assert clip.channels == channels and clip.sample_rate == rate
    assert abs(clip.duration_s - 1.5) < 0.1  # MP3 adds encoder padding
    peak_bin = np.abs(np.fft.rfft(clip.samples[0])).argmax() * rate / clip.frames
    assert abs(peak_bin - 300) < 5


def test_long_files_are_read_as_spread_excerpts(tmp_path):
    rate = 8_000
    x = np.zeros(rate * 600, np.float32)  # 10 minutes; a marker tone in the last minute only
    t = np.arange(rate * 60) / rate
    x[-rate * 60:] = 0.5 * np.sin(2 * np.pi * 1000 * t)
    path = tmp_path / "long.flac"
    sf.write(path, x, rate)
    ex = load_excerpts(path, window_s=5.0, max_windows=12)
    assert len(ex) == 12 and all(e.frames == 5 * rate for e in ex)
    assert np.abs(ex[-1].samples).max() > 0.4 and np.abs(ex[0].samples).max() == 0


def test_duration_limits(tmp_path):
    path = tmp_path / "hour.wav"
    with sf.SoundFile(path, "w", samplerate=4_000, channels=1, subtype="PCM_U8") as fh:
        fh.write(np.zeros(4_000 * 3601, np.float32))
    with pytest.raises(AudioError, match="60 min"):
        probe_audio(path)


def test_broken_corpus_gives_one_line_errors_via_the_cli(tmp_path, capsys):
    corpus = broken_corpus(tmp_path)
    assert len(corpus) >= 15
    messages = {}
    for name, path in corpus.items():
        rc = main(["tag", str(path), "--tagger", "features"])
        out, err = capsys.readouterr()
        assert rc == 2, (name, out, err)
        assert out == ""
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (name, err)
        assert "Traceback" not in err
        assert path.name in lines[0] or str(path) in lines[0], (name, err)
        messages[name] = lines[0]
    assert "empty" in messages["zero_length.wav"]
    assert "PNG image" in messages["image.mp3"] and "expected WAV, FLAC, OGG or MP3" in messages["image.mp3"]
    assert "text file" in messages["text.wav"]
    assert "does not exist" in messages["missing.wav"]
    assert "sample rate" in messages["rate_one_hz.wav"]
    assert "0.50 s" in messages["too_short.wav"]
    assert "NaN" in messages["nan_samples.wav"]
    assert "AIFF" in messages["aiff.aiff"]


def test_cli_subprocess_has_no_traceback(tmp_path):
    corpus = broken_corpus(tmp_path)
    for name in ("ogg_truncated.ogg", "channels_1000.wav", "mp3_id3_only.mp3"):
        proc = subprocess.run([sys.executable, "-m", "studio", "imagine", str(corpus[name]), "--out", str(tmp_path / "x.png")],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2 and proc.stdout == ""
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: ")
        assert not (tmp_path / "x.png").exists()
