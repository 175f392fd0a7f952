"""Per-recording transient limiting for the bundled pack, so each recording reaches its level.

The pack is levelled to :data:`~studio.generation.samples_pack.PACK_LEVEL_LUFS` with every peak
at or below :data:`~studio.generation.samples_pack.PACK_PEAK_DBFS`. For most recordings a few
sharp transients (the fireplace's pops, the boat's knocks, a drop hitting the microphone) sit
far above the body of the sound: capping the gain by the file's peak leaves the fireplace at
about -30.5 LUFS, 14.5 dB below the level its description asks for, where a -12 dB drone
covers it. Instead, a recording whose levelling gain would put a sample peak over the cap is
run once, when it is first loaded, through the master's look-ahead true-peak limiter
(:class:`studio.mixing.limiter.TruePeakLimiter`: 5 ms look-ahead ramp, 30 ms hold, 5 ms
release) at :data:`LIMIT_MARGIN_DB` under the cap. Only the transients are touched (the
fireplace: 6 % of frames, at most 14.7 dB); the body of the sound passes at unit gain.

Limiting removes a little loudness (up to 1 LU for the knock-dense boat), so the gain is
corrected from the measured loudness of the limited result and the limiter is run again, up to
:data:`MAX_PASSES` times, until the loudness is within :data:`LOUDNESS_TOLERANCE_LU`. A limiter
that would act on more than :data:`MAX_LIMITED_FRACTION` of the frames is compressing the
body of the sound, not its transients: then the gain is lowered (bisection, to 0.1 dB) until it
stays within that budget, and the recording sits under the pack level (the boat at -18.1 LUFS,
the train at -16.6).

The result is the whole recording at 48 kHz, float32, limited, kept for the process
(:func:`limited_pack_audio`, a small LRU cache: the first use of a limited recording costs one
read, one resample and two limiter passes, 0.5-4 s). It is a pure function of the file, so
every crop is the same stretch of the same limited signal, in every process. Recordings that
do not need it (:func:`needs_limiter` false: coffee-shop and summer-night) are never passed
through it and load bit-for-bit as before.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

LIMIT_MARGIN_DB = 0.1  # limiter threshold under PACK_PEAK_DBFS (headroom for float rounding)
LOUDNESS_TOLERANCE_LU = 0.1
MAX_PASSES = 3
# A limiter that acts on more than this share of a recording's frames is squashing its body,
# not its transients (the boat's hull knocks come every second or so): such a recording gets
# the largest gain that stays within it and sits under the pack level.
MAX_LIMITED_FRACTION = 0.10
OUTPUT_RATE = 48_000
CHUNK_FRAMES = 1 << 18


@dataclass(frozen=True)
class PackLevel:
    """How a limited pack recording was levelled: the gain before the limiter, what the limiter
    did and where the result sits. Goes into the samples backend's ``chosen`` metadata."""

    gain_db: float
    limiter_threshold_dbtp: float
    max_reduction_db: float
    limited_fraction: float  # of the recording's frames with any gain reduction
    loudness_lufs: float
    true_peak_dbtp: float
    passes: int

    def as_dict(self) -> dict[str, float | int | bool]:
        return {"limited": True, **{k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}}


def nominal_gain_db(file: str) -> float:
    """Gain that brings pack file ``file`` to the pack level, ignoring its peaks."""
    from studio.generation.samples_pack import PACK_LEVEL_LUFS
    from studio.sounds.recordings import by_file

    return PACK_LEVEL_LUFS - by_file()[file].loudness_lufs


def needs_limiter(file: str) -> bool:
    """Whether levelling ``file`` would put a sample peak over the pack's cap."""
    from studio.generation.samples_pack import PACK_PEAK_DBFS
    from studio.sounds.recordings import by_file

    return by_file()[file].peak_dbfs + nominal_gain_db(file) > PACK_PEAK_DBFS


def limit(samples: np.ndarray, gain_db: float, threshold_dbtp: float) -> tuple[np.ndarray, "object"]:
    """``samples`` (float32 ``(channels<=2, n)``, 48 kHz) times ``gain_db``, true-peak limited
    to ``threshold_dbtp``. Returns the float32 result (same shape) and the limiter's stats.
    A signal whose gained true peak stays under the threshold comes back exactly as
    ``samples * gain`` (the limiter applies no gain where none is needed)."""
    from studio.mixing.limiter import TruePeakLimiter

    x = np.asarray(samples, np.float32)
    mono = x.shape[0] == 1
    y = (np.repeat(x, 2, axis=0) if mono else x) * np.float32(10.0 ** (gain_db / 20.0))
    lim = TruePeakLimiter(10.0 ** (threshold_dbtp / 20.0), OUTPUT_RATE)
    chunks = [y[:, i : i + CHUNK_FRAMES] for i in range(0, y.shape[1], CHUNK_FRAMES)]
    out = np.concatenate(list(lim.process(chunks, workers=1)), axis=1).astype(np.float32, copy=False)
    return (out[:1] if mono else out), lim.stats


@lru_cache(maxsize=3)
def limited_pack_audio(file: str) -> tuple[np.ndarray, PackLevel]:
    """The whole pack recording ``file`` at 48 kHz, levelled to the pack level with its
    transients limited under the pack's cap (read-only float32 ``(channels, n)``), and how."""
    from studio.evaluation.clap import resample
    from studio.generation.samples_index import read_audio
    from studio.generation.samples_pack import PACK_LEVEL_LUFS, PACK_PEAK_DBFS
    from studio.mixing.loudness import integrated_lufs
    from studio.sounds.recordings import by_file

    data, rate = read_audio(by_file()[file].path)
    x = resample(data, rate, OUTPUT_RATE)
    if x.shape[0] > 2:
        from studio.types import AudioClip

        x = AudioClip(x, OUTPUT_RATE).to_stereo().samples
    threshold = PACK_PEAK_DBFS - LIMIT_MARGIN_DB
    gain_db = nominal_gain_db(file)
    for passes in range(1, MAX_PASSES + 1):
        out, stats = limit(x, gain_db, threshold)
        loud = integrated_lufs(out, OUTPUT_RATE)
        if abs(loud - PACK_LEVEL_LUFS) <= LOUDNESS_TOLERANCE_LU or passes == MAX_PASSES:
            break
        gain_db += PACK_LEVEL_LUFS - loud
    if stats.limited_frames > MAX_LIMITED_FRACTION * out.shape[1]:
        # Not transients any more: find the largest gain (to 0.1 dB) that keeps the limiter
        # within its budget; the recording then sits under the pack level.
        lo, hi = PACK_PEAK_DBFS - by_file()[file].peak_dbfs, gain_db  # lo: no limiting at all
        best = limit(x, lo, threshold)
        while hi - lo > 0.1:
            mid = 0.5 * (lo + hi)
            trial = limit(x, mid, threshold)
            passes += 1
            if trial[1].limited_frames <= MAX_LIMITED_FRACTION * out.shape[1]:
                lo, best = mid, trial
            else:
                hi = mid
        gain_db, (out, stats) = lo, best
        loud = integrated_lufs(out, OUTPUT_RATE)
    out.setflags(write=False)
    level = PackLevel(
        gain_db=float(gain_db), limiter_threshold_dbtp=float(threshold),
        max_reduction_db=float(stats.max_reduction_db),
        limited_fraction=float(stats.limited_frames / max(1, out.shape[1])),
        loudness_lufs=float(loud), true_peak_dbtp=float(stats.true_peak_dbtp or -np.inf), passes=passes,
    )
    return out, level
