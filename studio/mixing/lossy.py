"""Lossy exports (OGG Vorbis, MP3) that keep the true-peak ceiling and the loudness after decoding.

A lossy encoder rebuilds the waveform from a reduced spectrum, so a mix mastered to −1 dBTP
decodes with peaks above it: measured on 20–60 s procedural mixes at −14 LUFS, up to +0.3 dBTP
for OGG and +0.8 dBTP for MP3 at libsndfile's default quality (clipping in a player), and OGG
also comes out 0.3 LU quieter. The export encodes at publishing quality (studio.export's
``LOSSY_COMPRESSION_LEVEL``), which overshoots less but still overshoots. So before a lossy encode the mastered mix goes through the true-peak limiter once more, at
``ceiling − headroom`` (1 dB to start, the usual advice for lossy delivery) with a make-up gain
(0 dB to start); the encoded file is decoded and measured (true peak, BS.1770 loudness) and,
while its peak is over the ceiling or its loudness more than :data:`LOUDNESS_TOLERANCE_LU`
under the lossless mix's, encoded again: the headroom grows by the overshoot plus
:data:`MARGIN_DB`, the make-up gain by the shortfall (at most :data:`MAX_MAKEUP_DB`), for at
most :data:`MAX_ATTEMPTS` encodes. The best take is kept (under the ceiling first, then the
loudest) and reported as ``export.mix_lossy`` in the manifest.

The ceiling always wins over loudness: on peak-dense material (ocean surf at −14 LUFS, where the
loudness sits in the wave crashes the limiter holds down) make-up gain buys little, and the
kept file can come out more than 0.5 LU quieter than the WAV; the report says so
(``loudness_kept: false``).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, TypeVar, Union

import numpy as np

START_HEADROOM_DB = 1.0
MARGIN_DB = 0.2
LOUDNESS_TOLERANCE_LU = 0.5
MAX_MAKEUP_DB = 3.0
MAX_ATTEMPTS = 3  # each is a full encode: about 1 s per minute of MP3 on one core
T = TypeVar("T")


def _r(x: Optional[float]) -> Optional[float]:
    return None if x is None or not math.isfinite(x) else round(float(x), 3)


@dataclass(frozen=True)
class Decoded:
    """What a decoded file measures: true peak (dBTP) and integrated loudness (LUFS)."""

    true_peak_dbtp: float
    lufs: float


@dataclass(frozen=True)
class LossyReport:
    """How a lossy file was kept under the ceiling and at the mix's loudness."""

    ceiling_dbtp: float
    reference_lufs: Optional[float]
    headroom_db: float
    makeup_db: float
    decoded: Decoded
    attempts: int

    @property
    def within_ceiling(self) -> bool:
        return self.decoded.true_peak_dbtp <= self.ceiling_dbtp + 1e-3

    @property
    def loudness_kept(self) -> bool:
        if self.reference_lufs is None or not math.isfinite(self.decoded.lufs):
            return True
        return self.decoded.lufs >= self.reference_lufs - LOUDNESS_TOLERANCE_LU

    def note(self) -> Optional[str]:
        """What to tell the user when the ceiling or the loudness could not be kept."""
        if not self.within_ceiling:
            return (f"the decoded file peaks at {_r(self.decoded.true_peak_dbtp)} dBTP, over the {self.ceiling_dbtp} dBTP "
                    "ceiling; a WAV or FLAC mix keeps the master exact")
        if not self.loudness_kept:
            return (f"the decoded file measures {_r(self.decoded.lufs)} LUFS, quieter than the master's "
                    f"{_r(self.reference_lufs)} LUFS, to stay under the ceiling")
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "note": self.note(),
            "ceiling_dbtp": self.ceiling_dbtp,
            "reference_lufs": _r(self.reference_lufs),
            "headroom_db": round(self.headroom_db, 3),
            "makeup_db": round(self.makeup_db, 3),
            "decoded_true_peak_dbtp": _r(self.decoded.true_peak_dbtp),
            "decoded_lufs": _r(self.decoded.lufs),
            "attempts": self.attempts,
            "within_ceiling": self.within_ceiling,
            "loudness_kept": self.loudness_kept,
        }


def limited(chunks: Iterable[np.ndarray], ceiling_dbtp: float, headroom_db: float, sample_rate: int,
            makeup_db: float = 0.0) -> Iterator[np.ndarray]:
    """``chunks`` (float32 ``(2, n)``) raised by ``makeup_db`` and true-peak limited to
    ``ceiling_dbtp - headroom_db``."""
    from studio.mixing.limiter import TruePeakLimiter
    from studio.mixing.loudness import db_to_gain

    gain = np.float32(db_to_gain(makeup_db))
    limiter = TruePeakLimiter(db_to_gain(ceiling_dbtp - headroom_db), sample_rate, measure_peak=False)
    yield from limiter.process(np.ascontiguousarray(c, dtype=np.float32) * gain for c in chunks)


def measure_decoded(source: Union[bytes, str, Path], block_frames: int = 1 << 18) -> Decoded:
    """Decode an encoded stereo file (path or bytes) in blocks; its true peak and loudness."""
    import soundfile as sf

    from studio.mixing.loudness import LoudnessMeter, TruePeakMeter

    src: Any = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else str(source)
    peak = TruePeakMeter()
    with sf.SoundFile(src) as f:
        meter = LoudnessMeter(f.samplerate)
        for block in f.blocks(blocksize=block_frames, dtype="float32", always_2d=True):
            x = np.ascontiguousarray(block.T)
            meter.feed(x)
            peak.feed(x)  # each frame measured once, with its neighbours across block joins
    return Decoded(peak.dbtp(), meter.result().integrated_lufs)


def encode_within_ceiling(
    encode: Callable[[float, float], T],
    measure: Callable[[T], Decoded],
    ceiling_dbtp: float,
    reference_lufs: Optional[float] = None,
    start_headroom_db: float = START_HEADROOM_DB,
    discard: Callable[[T], None] = lambda _: None,
) -> tuple[T, LossyReport]:
    """``encode(headroom_db, makeup_db)`` until ``measure(result)`` is at or under
    ``ceiling_dbtp`` and no more than :data:`LOUDNESS_TOLERANCE_LU` under ``reference_lufs``.
    Takes that are not kept are passed to ``discard``. Returns the best take: under the
    ceiling first, then the loudest (then the lowest peak)."""
    if reference_lufs is not None and not math.isfinite(reference_lufs):
        reference_lufs = None
    headroom, makeup = max(0.0, float(start_headroom_db)), 0.0
    best: Optional[tuple[T, LossyReport]] = None

    def rank(rep: LossyReport) -> tuple[bool, float, float]:
        lufs = rep.decoded.lufs if math.isfinite(rep.decoded.lufs) else -math.inf
        return (rep.within_ceiling, lufs if rep.within_ceiling else 0.0, -rep.decoded.true_peak_dbtp)

    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            result = encode(headroom, makeup)
            rep = LossyReport(float(ceiling_dbtp), reference_lufs, headroom, makeup, measure(result), attempt)
        except BaseException:
            if best is not None:
                discard(best[0])  # a failing export leaves nothing behind
            raise
        if best is None or rank(rep) > rank(best[1]):
            if best is not None:
                discard(best[0])
            best = (result, rep)
        else:
            discard(result)
        if rep.within_ceiling and rep.loudness_kept:
            break
        if not rep.within_ceiling:
            headroom += rep.decoded.true_peak_dbtp - ceiling_dbtp + MARGIN_DB
        if not rep.loudness_kept and reference_lufs is not None:
            short = reference_lufs - rep.decoded.lufs
            if makeup >= MAX_MAKEUP_DB and rep.within_ceiling:
                break  # as loud as it may be pushed
            makeup = min(MAX_MAKEUP_DB, makeup + short)
    assert best is not None
    result, rep = best
    return result, LossyReport(rep.ceiling_dbtp, rep.reference_lufs, rep.headroom_db, rep.makeup_db, rep.decoded, attempt)
