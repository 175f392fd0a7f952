"""Voices without words: formant-filtered glottal sources for babble (café, children at play).

Source-filter speech after Farnell (*Designing Sound*, "Voice") and Klatt: a glottal pulse
train (a sawtooth through a one-pole low-pass, so its harmonics fall at about -12 dB/octave)
with intonation, jitter and breath, through three formant resonators (F1-F3) per vowel.
Syllables alternate a vowel with a consonant (a short noise burst or a closure), at 3-6
syllables a second, inside phrases separated by pauses.

Speed: voices are synthesised at 12 kHz (formants lie below 4 kHz) and upsampled once.
Formant filters are linear and fixed per vowel, so each vowel's filter runs once per bus on
the sum of every voice's source weighted by how much that voice is on that vowel right now
(``sum_v src_v * w_v,vowel(t)``), instead of once per voice: cost is buses x vowels x 3
biquads, whatever the number of talkers; F3 moves little between vowels, so one shared F3
resonator (at the vowels' mean) filters the whole bus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from studio.generation.procedural import dsp

VOICE_SR = 12_000  # speech formants and fricatives live below 6 kHz

# Adult vowel formants (Hz), after Peterson & Barney (averaged over men and women): F1, F2, F3.
VOWELS: dict[str, tuple[float, float, float]] = {
    "a": (750.0, 1220.0, 2600.0),
    "e": (530.0, 1840.0, 2480.0),
    "i": (300.0, 2250.0, 2950.0),
    "o": (520.0, 920.0, 2450.0),
    "u": (330.0, 1000.0, 2300.0),
}
BANDWIDTHS = (90.0, 110.0, 170.0)  # formant bandwidths (Hz)


@dataclass(frozen=True)
class Talker:
    f0_hz: float  # speaking pitch
    level: float  # linear gain
    syllables_per_s: float
    formant_scale: float = 1.0  # children ~1.2: a shorter vocal tract
    excitement: float = 0.0  # 0..1: wider pitch swings, louder stressed syllables (play, laughter)


FORMANT_GAINS = (1.0, 0.7, 0.35)  # F1, F2, F3 (the glottal tilt already falls with frequency)
F3_SHARED = float(np.mean([v[2] for v in VOWELS.values()]))


def _resonator(f_hz: float, bw_hz: float, scale: float, sr: int) -> np.ndarray:
    """One formant: a 0 dB-peak resonant band-pass biquad ``(1, 6)`` (float32 sos)."""
    fc = min(f_hz * scale, 0.45 * sr)
    b, a = signal.iirpeak(fc, fc / (bw_hz * scale), fs=sr)
    return np.concatenate([b, a])[None, :].astype(np.float32)


def formant_bank(scale: float = 1.0, sr: int = VOICE_SR) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Per vowel (F1, F2) resonators, and the shared F3 resonator; run in parallel."""
    per_vowel = [(_resonator(f1, BANDWIDTHS[0], scale, sr), _resonator(f2, BANDWIDTHS[1], scale, sr)) for f1, f2, _ in VOWELS.values()]
    return per_vowel, _resonator(F3_SHARED, BANDWIDTHS[2], scale, sr)


def _formants(vowel_in: np.ndarray, scale: float) -> np.ndarray:
    """``vowel_in`` ``(..., vowels, nv)``: each vowel's share of the source -> ``(..., nv)``."""
    per_vowel, f3 = formant_bank(scale)
    out = np.float32(FORMANT_GAINS[2]) * signal.sosfilt(f3, vowel_in.sum(axis=-2), axis=-1).astype(np.float32)
    for j, (r1, r2) in enumerate(per_vowel):
        src = vowel_in[..., j, :]
        out += np.float32(FORMANT_GAINS[0]) * signal.sosfilt(r1, src, axis=-1).astype(np.float32)
        out += np.float32(FORMANT_GAINS[1]) * signal.sosfilt(r2, src, axis=-1).astype(np.float32)
    return out


def _glottal(rng: np.random.Generator, talker: Talker, m: int, n: int) -> np.ndarray:
    """Glottal source at VOICE_SR, ``(n,)`` float32: intonation (a falling line over each
    phrase plus random inflection), 1 % jitter, and the -12 dB/octave pulse spectrum."""
    drift = dsp.smooth_random(rng, m, 2.5)[0]
    swing = 0.06 + 0.22 * talker.excitement
    f0 = talker.f0_hz * np.exp(swing * drift + 0.01 * dsp.smooth_random(rng, m, 40.0)[0])
    cyc = np.cumsum(f0) / dsp.CTRL_HZ
    frac = dsp.upsample_cycles(cyc, n, VOICE_SR)
    saw = frac - np.float32(0.5)
    pole = np.float32(np.exp(-2 * np.pi * 300.0 / VOICE_SR))
    return signal.lfilter([np.float32(1.0 - pole)], [np.float32(1.0), -pole], saw).astype(np.float32) * np.float32(6.0)


def _syllable_plan(rng: np.random.Generator, talker: Talker, m: int, talk_share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Control-rate ``(voiced, vowel_weights (5, m), frication)`` for one talker: phrases of
    syllables separated by pauses (listening, breathing); each syllable a vowel nucleus with
    smooth on/off ramps, a consonant noise burst before some of them."""
    voiced = np.zeros(m)
    fric = np.zeros(m)
    weights = np.zeros((len(VOWELS), m))
    pos = -int(rng.uniform(0, 4000))  # already talking at frame 0 (chunk and loop seams)
    while pos < m:
        if rng.random() > talk_share:  # listening for a while
            pos += int(rng.uniform(800, 4000))
            continue
        for _ in range(int(rng.integers(3, 14))):  # one phrase
            dur = int(1000 / (talker.syllables_per_s * rng.uniform(0.7, 1.3)))
            cons = int(dur * rng.uniform(0.15, 0.35))
            vow = dur - cons
            if pos + dur >= m:
                pos = m
                break
            if pos < 20:  # a syllable begun before the start of this stretch
                pos += dur
                continue
            if rng.random() < 0.6:  # a fricative or a plosive burst
                fric[pos : pos + cons] = rng.uniform(0.3, 1.0) * np.hanning(cons)
            stress = rng.uniform(0.5, 1.0) * (1.0 + talker.excitement * (rng.random() < 0.25))
            ramp = np.sin(np.pi * np.linspace(0, 1, vow)) ** 0.6
            voiced[pos + cons : pos + dur] = stress * ramp
            weights[int(rng.integers(len(VOWELS))), pos + cons - 20 : pos + dur + 20] = 1.0
            pos += dur
        pos += int(rng.uniform(250, 900))  # a breath between phrases
    # cross-fade vowel weights over ~40 ms (coarticulation) and normalise to sum 1
    k = np.hanning(41)
    weights = signal.oaconvolve(weights, (k / k.sum())[None, :], mode="same", axes=-1)
    weights /= np.maximum(weights.sum(axis=0, keepdims=True), 1e-6)
    return voiced, weights, fric


def babble(rng: np.random.Generator, talkers: list[tuple[Talker, int]], n: int, buses: int, sr: int = dsp.SR, talk_share: float = 0.6, breath: float = 0.15) -> np.ndarray:
    """Several talkers summed onto ``buses`` mono buses, ``(buses, n)`` float32 at ``sr``.

    ``talkers`` pairs each :class:`Talker` with its bus. ``talk_share`` is the fraction of
    time a talker is in a phrase; ``breath`` the aspiration noise mixed into voicing."""
    nv = -(-n * VOICE_SR // sr) + 1
    m = dsp.ctrl_len(nv, VOICE_SR)
    vowel_in = np.zeros((buses, len(VOWELS), nv), np.float32)
    fric_in = np.zeros((buses, nv), np.float32)
    for talker, bus in talkers:
        voiced, weights, fric = _syllable_plan(rng, talker, m, talk_share)
        src = _glottal(rng, talker, m, nv)
        src += np.float32(breath) * (rng.random(nv, dtype=np.float32) - np.float32(0.5))
        amp = dsp.upsample(voiced * talker.level, nv, VOICE_SR)
        src *= amp
        w = dsp.upsample(weights, nv, VOICE_SR)
        for j in range(len(VOWELS)):
            vowel_in[bus, j] += src * w[j]
        fric_in[bus] += dsp.upsample(fric * talker.level, nv, VOICE_SR)
    scale = float(np.mean([t.formant_scale for t, _ in talkers])) if talkers else 1.0
    out = _formants(vowel_in, scale)
    noise = rng.random((buses, nv), dtype=np.float32) - np.float32(0.5)
    out += np.float32(0.6) * dsp.bandpass(noise * fric_in, 2200 * scale, min(5500.0, 5000 * scale), 2, VOICE_SR)
    up = signal.resample_poly(out, sr // 1000, VOICE_SR // 1000, axis=-1).astype(np.float32)
    return up[:, :n]


def vowel_voice(f0_hz: float, vowel: str, seconds: float, seed: int = 0, formant_scale: float = 1.0, sr: int = dsp.SR) -> np.ndarray:
    """One steady voiced vowel ``(n,)`` (for tests and audition): the glottal source through the
    vowel's formants, exactly as :func:`babble` filters it."""
    rng = dsp.make_rng(seed, "vowel")
    nv = int(seconds * VOICE_SR)
    m = dsp.ctrl_len(nv, VOICE_SR)
    src = _glottal(rng, Talker(f0_hz, 1.0, 4.0, formant_scale), m, nv)
    vowel_in = np.zeros((len(VOWELS), nv), np.float32)
    vowel_in[list(VOWELS).index(vowel)] = src
    out = _formants(vowel_in, formant_scale)
    return signal.resample_poly(out, sr // 1000, VOICE_SR // 1000).astype(np.float32)
