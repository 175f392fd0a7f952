"""The bundled recordings pack (:mod:`studio.sounds.recordings`) as a sample index.

Entries are matched by the pack's own descriptions (not file names), so "steady rain on leaves"
finds ``rain.ogg``. The index is built once per process from the files' headers; the pack is
part of the installed package and does not change while the studio runs.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from studio.generation.samples_index import SampleEntry, SampleIndex, _signature, probe, scan
from studio.sounds.recordings import PACK_DIR, RECORDINGS, by_file

# Pack recordings are levelled to where the procedural engine's beds sit (about -14 to -17
# LUFS for the water, fire and creature types), so swapping synthesis for a recording keeps the
# plan's bed balance; the recordings themselves range from -23 to -39 LUFS.
PACK_LEVEL_LUFS = -16.0
# No peak may go above this: a take is audio of its own (kept on disk by the Studio, played
# alone, re-levelled by the user) and must not pass full scale, and a bed's peaks add to the
# other layers' in the mix. Recordings with sharp transients (the fireplace's
# pops, the boat's knocks) reach PACK_LEVEL_LUFS anyway: their transients are limited once, on
# load (studio.generation.pack_limiter). The 1 dB margin leaves room for crossfades and the
# distance filter.
PACK_PEAK_DBFS = -1.0


@lru_cache(maxsize=1)
def pack_index() -> SampleIndex:
    """A :class:`SampleIndex` over ``studio/sounds/pack`` with one entry per recording."""
    from studio.text_embed import embed

    entries = []
    for rec in RECORDINGS:
        st = rec.path.stat()
        frames, rate, channels, error = probe(rec.path)
        entries.append(SampleEntry(rec.file, int(st.st_size), int(st.st_mtime_ns), rec.description,
                                   frames=frames, sample_rate=rate, channels=channels, error=error))
    vectors = np.asarray(embed([r.description for r in RECORDINGS]), np.float32)
    return SampleIndex(PACK_DIR, entries, vectors, signature=_signature(PACK_DIR, scan(PACK_DIR)))


def pack_gain_db(file: str) -> float:
    """Gain in dB that brings a pack file to :data:`PACK_LEVEL_LUFS`, for files whose peak then
    stays at or below :data:`PACK_PEAK_DBFS`. Files that would exceed it
    (:func:`~studio.generation.pack_limiter.needs_limiter`) are levelled and limited by
    :func:`~studio.generation.pack_limiter.limited_pack_audio` instead; for those this is the
    peak-capped gain (what they would get without the limiter)."""
    rec = by_file()[file]
    return level_gain_db(rec.loudness_lufs, rec.peak_dbfs)


def level_gain_db(lufs: float, peak_dbfs: float) -> float:
    """The pack's levelling rule for any recording: to :data:`PACK_LEVEL_LUFS`, capped so the
    peak stays at or below :data:`PACK_PEAK_DBFS`."""
    return min(PACK_LEVEL_LUFS - lufs, PACK_PEAK_DBFS - peak_dbfs)


def pack_gain(file: str) -> float:
    """Linear :func:`pack_gain_db`."""
    return float(10.0 ** (pack_gain_db(file) / 20.0))
