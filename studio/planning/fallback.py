"""Semantic fallback: caption phrases the lexicon does not know, matched by MiniLM.

Every noun phrase of a caption (a run of content words between function words) is checked
against the lexicon's patterns; the words no pattern covers ("steam engine", "jazz club",
"pigeons") are embedded and matched against the shared sound vocabulary
(:func:`studio.sounds.labels.sound_sources`: the procedural catalogue, the recordings pack,
ESC-50 and the AudioSet-style list). A match at or above ``threshold`` (cosine) becomes a
layer of the best source the machine has:

- the first of the entry's ``types`` that the catalogue has (data-driven: a type added to the
  catalogue later is used without a code change);
- otherwise the catalogue type nearest to the entry's description, with ``missing`` set so
  the plan says by name which sound it could not make (and a neural backend, when one is
  installed, can render the caption's own words instead).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence

import numpy as np

from studio.planning import lexicon as lx
from studio.planning.embedding import catalogue_matrix, embed_texts, text_matrix

FALLBACK_THRESHOLD = 0.6  # cosine between a phrase and a vocabulary entry
SINGLE_WORD_THRESHOLD = 0.66  # one bare word carries less context: ask for more
LABEL_MATCH = 0.9  # a phrase this close to an entry's label names it
# A missing sound with no listed stand-in uses the nearest catalogue description only when it is
# this close. At 0.45 the nearest was often another kind of sound (a telephone became a temple
# bell, a mosquito wind chimes, a rooster an owl, a gunshot cave drips: every such pair over the
# vocabulary lies between 0.45 and 0.56); a good stand-in is listed after "~" in the vocabulary.
NEAREST_MIN = 0.58
FALLBACK_SCORE = 0.75  # candidate score: above a vague word, below an implied scene sound
LABEL_SCORE = 0.9  # a phrase that names an entry ("ferry", "church bells"): above an implied scene sound

# Function words and fillers that end a noun phrase (a run of the other words is a phrase).
_STOP = set(
    """a an the this that these those some any each every its it's his her their our my your
    of in on at by for from to into onto over under above below beneath behind beside near
    through across along around between among past toward towards off up down out inside
    outside within without upon via and or but nor so yet with while as than then plus
    is are was were be been being has have had do does did can could will would may might
    there here where when who which what whose how very quite just only also full lots lot
    one two three four five six seven eight nine ten several many few much more most late
    early before after during against photo picture image view scene shot close-up closeup
    old new big small large little huge tiny young empty open wide long tall beautiful lovely
    nice pretty""".split()
)
_WORD = re.compile(r"[a-z][a-z'-]*")
# Words that only say how a sound is (already read by lexicon.clause_modifiers).
_MODIFIERS = (lx.SOFT, lx.STRONG, lx.FAR, lx.NEAR, lx.SPARSE, lx.DENSE)


@dataclass(frozen=True)
class FallbackMatch:
    phrase: str  # the caption's words
    label: str  # the vocabulary entry it matched ("steam train")
    kind: str  # catalogue, recording, esc50 or scene
    similarity: float
    type: Optional[str]  # the catalogue type the plan uses (None: nothing close enough)
    missing: bool  # True: the machine has no offline source for the sound; ``type`` is the nearest
    nearest_similarity: float  # how close ``type`` is to the sound (1.0 when not missing)
    wanted: tuple[str, ...] = ()  # the entry's own types (may name types not in the catalogue yet)
    recording: Optional[str] = None
    named: bool = False  # the phrase says the entry's label (cosine >= LABEL_MATCH): the caption names it


def _covered(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[tuple[int, int]]]:
    """Spans the lexicon reads as sounds or scenes, spans that only set a scene fact (a
    context such as "club" or "crowded", a modifier such as "distant"), and the spans that name
    a sound outright (``lexicon.SOUND_WORDS``)."""
    spans = []
    for cues in (lx.SOUND_WORDS, lx.SCENE_WORDS, lx.GENERIC_WORDS):
        for cue in cues:
            spans += [m.span() for m in cue.pattern.finditer(text)]
    sounds = [m.span() for cue in lx.SOUND_WORDS for m in cue.pattern.finditer(text)]
    spans += [m.span() for m in lx.RAIN_ON_SURFACE.finditer(text)]
    spans += [m.span() for m in re.finditer(r"\bwinds?\b", text)]
    facts = []
    for pattern in (*lx.CONTEXTS.values(), *_MODIFIERS):
        facts += [m.span() for m in pattern.finditer(text)]
    return spans, facts, sounds


def _is_verb(word: str) -> bool:
    return word.endswith("ing") and len(word) > 5


def unknown_phrases(clause: str) -> list[str]:
    """Runs of content words in ``clause`` that no lexicon pattern covers, as noun phrases.

    - A word that only sets a scene fact (a context: "club", "crowded"; a modifier) stays in
      the phrase when the phrase has an unknown word: "smoky jazz club" is read whole, but a
      phrase of fact words only ("kitchen", "busy office") is not matched.
    - A verb ("barking", "ringing") starts a new phrase that keeps the word before it as its
      subject: "a dog barking" -> "dog", "dog barking"; the bare verb is matched too, but
      only when it says a vocabulary label (a bare "ringing" could be a telephone or a bell).
    - Words right before a word the lexicon reads as a sound describe that sound: "steam
      train" and "church bells" need no fallback (``train`` and ``temple_bell`` are known).

    ``"a smoky jazz club late at night"`` -> ``["smoky jazz club"]``;
    ``"a steam train crossing a viaduct"`` -> ``["crossing", "viaduct"]`` (the train is known).
    """
    text = clause.lower()
    spans, facts, sounds = _covered(text)
    phrases: list[str] = []
    run: list[tuple[str, bool]] = []  # (word, unknown)
    last_end = -1  # where the run's last word ends

    def flush() -> None:
        if any(unknown for _, unknown in run):
            phrases.append(" ".join(w for w, _ in run))
        run.clear()

    for match in _WORD.finditer(text):
        word = match.group(0).strip("'-")
        pos = match.start()
        known = any(s <= pos < e for s, e in spans)
        fact = any(s <= pos < e for s, e in facts)
        if known and run and not text[last_end:pos].strip() and any(s <= pos < e for s, e in sounds):
            # The words right before a word that names a sound describe that sound ("steam
            # train", "church bells", "freight train"): the lexicon has the sound already.
            run.clear()
            continue
        if known or not word or word in _STOP or len(word) < 3:
            flush()
            continue
        if _is_verb(word) and run and any(u for _, u in run):
            subject = run[-1][0]
            flush()
            if not fact:
                phrases.append(word)  # alone it counts only when it names a sound ("bubbling")
            run.append((subject, True))
        run.append((word, not fact))
        last_end = match.end()
    flush()
    return list(dict.fromkeys(phrases))


@lru_cache(maxsize=1)
def _vocabulary():
    from studio.sounds.labels import sound_sources

    return sound_sources()


def _resolve(entry) -> tuple[Optional[str], bool, float]:
    """``(type, missing, nearness)`` for a vocabulary entry: its first type the catalogue has;
    else (``missing``) its first listed stand-in, or the nearest catalogue description when
    that is at least ``NEAREST_MIN`` similar, or no type at all."""
    from studio.sounds.catalogue import BY_NAME, CATALOGUE

    for name in entry.types:
        if name in BY_NAME:
            return name, False, 1.0
    vocab = _vocabulary()
    description = vocabulary_matrix()[len(vocab) + vocab.index(entry)]  # embedded with the vocabulary
    sims = catalogue_matrix() @ description
    for name in entry.stand_ins:
        if name in BY_NAME:
            return name, True, float(sims[[t.name for t in CATALOGUE].index(name)])
    best = int(np.argmax(sims))
    if sims[best] < NEAREST_MIN:
        return None, True, float(sims[best])
    return CATALOGUE[best].name, True, float(sims[best])


def vocabulary_matrix() -> np.ndarray:
    """Embeddings of every entry's label and description, ``(2 * entries, 384)``: a phrase is
    as close to an entry as to the nearer of the two ("train" is the label itself)."""
    vocab = _vocabulary()
    return text_matrix([e.label for e in vocab] + [e.text for e in vocab])


def match_phrases(phrases: Sequence[str], threshold: float = FALLBACK_THRESHOLD) -> list[FallbackMatch]:
    """The vocabulary entry each phrase matches best, for the phrases that match well enough."""
    if not phrases:
        return []
    vocab = _vocabulary()
    both = embed_texts(list(phrases)) @ vocabulary_matrix().T
    labels, texts = both[:, : len(vocab)], both[:, len(vocab):]
    # A label counts only when the phrase says it ("train", "rush hour"); otherwise the phrase
    # must resemble the description ("bowl" is not "singing bowl", "road" is not "highway").
    named = np.where(labels >= LABEL_MATCH, labels, 0.0)
    sims = np.maximum(named, texts)
    out: list[FallbackMatch] = []
    for phrase, row, named_row in zip(phrases, sims, named):
        single = " " not in phrase
        if single and _is_verb(phrase):
            # A bare verb says little ("ringing" is not a telephone): only a label it says counts.
            row, needed = named_row, LABEL_MATCH
        else:
            needed = SINGLE_WORD_THRESHOLD if single else threshold
        best = int(np.argmax(row))
        if row[best] < needed:
            continue
        entry = vocab[best]
        type_name, missing, near = _resolve(entry)
        out.append(
            FallbackMatch(phrase, entry.label, entry.kind, float(row[best]), type_name, missing, near, entry.types,
                          entry.recording, named=bool(named_row[best] >= LABEL_MATCH))
        )
    return out


@lru_cache(maxsize=1)
def installed_neural_backend() -> Optional[str]:
    """The first text-to-audio backend that can run here (weights in the local cache), or None.
    Checked once per process; loads no model."""
    from studio.generation import BACKENDS

    for name in ("audiogen", "audioldm2", "stable-audio"):
        try:
            if BACKENDS.is_available(name):
                return name
        except Exception:  # a broken optional install is "not installed", not a planning error
            continue
    return None
