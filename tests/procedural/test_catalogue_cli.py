"""``python -m studio catalogue``: clips, spectrograms and an HTML page."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from studio.cli import main
from studio.generation.procedural.audition import write_catalogue


def test_write_catalogue_subset(tmp_path):
    result = write_catalogue(tmp_path / "cat", types=["pink_noise", "owl"], seconds=1.5, seed=3)
    index = (tmp_path / "cat" / "index.html").read_text()
    for name in ("pink_noise", "owl"):
        data, sr = sf.read(tmp_path / "cat" / f"{name}.wav", always_2d=True)
        assert sr == 48_000 and data.shape == (72_000, 2)
        assert np.abs(data).max() > 0.01
        png = (tmp_path / "cat" / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
        assert f'<audio controls preload="none" src="{name}.wav">' in index
        assert f'src="{name}.png"' in index
    assert result["types"]["owl"]["peak_dbfs"] < 0
    assert index.count("<audio") == 2


def test_cli_catalogue_runs(tmp_path, capsys):
    assert main(["catalogue", "--out", str(tmp_path / "c"), "--types", "brown_noise", "--seconds", "1"]) == 0
    assert (tmp_path / "c" / "brown_noise.wav").is_file()
    assert '"index"' in capsys.readouterr().out


def test_cli_catalogue_defaults_to_ten_seconds_of_every_type():
    from studio.cli import build_parser

    args = build_parser().parse_args(["catalogue", "--out", "x"])
    assert (args.seconds, args.types, args.seed) == (10.0, None, 0)


def test_cli_catalogue_lists_every_type_by_default(tmp_path, monkeypatch):
    """The full command renders all 40 types (here 0.5 s each, with the spectrogram drawing
    stubbed to keep it fast)."""
    from studio.generation.procedural import audition
    from studio.sounds.catalogue import CATALOGUE

    made = []
    monkeypatch.setattr(audition, "_spectrogram_png", lambda x, sr, title: made.append(title) or b"\x89PNG\r\n\x1a\n")
    write_catalogue(tmp_path, seconds=0.5)
    assert made == [t.name for t in CATALOGUE]
    assert (tmp_path / "index.html").read_text().count("<audio") == 40


@pytest.mark.parametrize("argv, fragment", [(["--types", "bagpipes"], "unknown layer type"), (["--seconds", "0"], "0.5..600 seconds")])
def test_cli_catalogue_bad_input(tmp_path, capsys, argv, fragment):
    assert main(["catalogue", "--out", str(tmp_path / "x"), *argv]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err
