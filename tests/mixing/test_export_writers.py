"""The export's writer helpers: files shared over the encoding threads, WAV bytes without copies."""

from __future__ import annotations

import io

import numpy as np
import pytest

from studio.export_writers import _balanced_groups, _encode_cost
from studio.mixing.wav import WavWriter, encode_array, encode_frames


def test_balanced_groups_cover_every_file_once_and_even_out_the_cost():
    # mix (WAV) + 5 FLAC stems over two threads: round robin would give 3 FLAC to one thread.
    costs = [1.0] + [6.0] * 5
    groups = _balanced_groups(costs, 2)
    assert sorted(i for g in groups for i in g) == list(range(6))
    loads = sorted(sum(costs[i] for i in g) for g in groups)
    assert loads == [13.0, 18.0]
    assert all(g == sorted(g) for g in groups)
    assert _balanced_groups(costs, 2) == groups  # deterministic
    assert _balanced_groups([1.0, 1.0], 3) == [[0], [1]]  # no empty group
    assert _balanced_groups([2.0, 1.0], 1) == [[0, 1]]


def test_encode_cost_ranks_flac_above_wav():
    assert _encode_cost(("flac", "FLAC", "PCM_24")) > _encode_cost(("wav", "WAV", "FLOAT"))


@pytest.mark.parametrize("subtype", ["PCM_24", "PCM_16", "FLOAT"])
def test_wav_writer_bytes_equal_the_encoded_frames(subtype):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((2, 1001)) * 0.3).astype(np.float32)
    assert encode_array(x, subtype, 5, 9).tobytes() == encode_frames(x, subtype, 5, 9)
    buf = io.BytesIO()
    w = WavWriter(buf, 48000, 2, 2002, subtype, dither_seed=9)
    w.write(x)
    w.write(x[:, ::-1].copy())
    w.close()
    data = buf.getvalue()
    body = encode_frames(x, subtype, 0, 9) + encode_frames(x[:, ::-1].copy(), subtype, 1001, 9)
    assert data.endswith(body) or data[: -1].endswith(body)


@pytest.mark.parametrize("mix_subtype", ["PCM_24", "PCM_16"])
def test_wav_files_written_around_the_page_cache_are_byte_identical(rendered, tmp_path, monkeypatch, mix_subtype):
    """The export's big WAVs go through studio.direct_io (O_DIRECT): same bytes as through the
    page cache, for the encoders that fill its buffer in place (float, 24-bit) and the rest."""
    import studio.direct_io as direct_io
    from studio.export import export_soundscape

    sc, _ = rendered

    def files(folder):
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    monkeypatch.setattr(direct_io, "DIRECT_MIN_BYTES", 1 << 62)  # nothing direct
    export_soundscape(sc, tmp_path / "cached", manifest={}, mix_subtype=mix_subtype, stem_format="wav")
    opened = []
    real_open = direct_io.DirectWriter.open

    def spy(fd, block_bytes=direct_io.DIRECT_BLOCK_BYTES):
        w = real_open(fd, 64 * 1024)  # small blocks: many aligned writes per file
        opened.append(w)
        return w

    monkeypatch.setattr(direct_io, "DIRECT_MIN_BYTES", 0)  # every WAV direct
    monkeypatch.setattr(direct_io.DirectWriter, "open", staticmethod(spy))
    export_soundscape(sc, tmp_path / "direct", manifest={}, mix_subtype=mix_subtype, stem_format="wav")
    assert len(opened) == 1 + len(sc.stems)  # the mix and every stem
    assert files(tmp_path / "direct") == files(tmp_path / "cached")
