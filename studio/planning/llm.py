"""The ``llm`` planner: a small instruction model turns a caption into a layered plan.

Flow for one plan:

1. Prompts from Jinja2 templates (``prompt_templates/planner/``): the system prompt holds the
   rules, the style's limits, the catalogue, the JSON schema and few-shot examples; the user
   prompt holds the caption, cues and tags as quoted *data*.
2. The model answers; :func:`studio.planning.json_extract.extract_json` reads JSON tolerantly
   and :func:`studio.planning.llm_schema.validate_plan` checks it strictly.
3. If that fails, one repair round: the model sees its reply and the reason, and answers again.
4. If that fails too (or the model is missing, or generation raises), the fallback planner
   (the rules planner) plans instead; the plan's ``planner`` is ``"llm->rules"`` and the reason
   is the first note.
5. A valid answer goes through the same guardrails as the rules planner (bans, sudden sounds,
   counts, clamped numbers, slugged names, per-layer seeds).

The model sits behind a chat-generator callable (:mod:`studio.planning.chat_model`), so tests
run scripted fakes and tiny random models through the same code.
"""

from __future__ import annotations

import importlib.util
import tomllib
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Optional

from studio.errors import StudioError
from studio.sounds.catalogue import CATALOGUE
from studio.planning.notes import PlanNotes, sentence, sound_name
from studio.planning import lexicon as lx
from studio.planning.assemble import assemble_plan
from studio.planning.chat_model import ChatGenerator, HFChatGenerator, model_in_cache
from studio.planning.guardrails import banned_reason, enforce_style
from studio.planning.json_extract import ExtractionError, extract_json
from studio.planning.llm_schema import LLMPlan, compact_schema, to_choices, validate_plan
from studio.planning.prompts import TEMPLATES_DIR, clean_text, phrasing_rule, quote_data, render_template
from studio.planning.rules import RulePlanner, check_request, scene_constraints
from studio.types import Caption, ScenePlan

if TYPE_CHECKING:  # pragma: no cover
    from studio.planning.styles import Style

DEFAULT_MODEL = "Qwen/Qwen2.5-1.5B-Instruct"
CPU_MODEL = "Qwen/Qwen2.5-0.5B-Instruct"  # the lighter choice for CPU-only machines
MAX_REPLY_IN_REPAIR = 4000  # characters of the bad reply shown back to the model


def default_model_id() -> str:
    """The model the registry uses when none is named: the 1.5B model when it is in the local
    cache, else the 0.5B CPU choice when that is, else the 1.5B id (for the download hint)."""
    for model_id in (DEFAULT_MODEL, CPU_MODEL):
        if model_in_cache(model_id) is not None:
            return model_id
    return DEFAULT_MODEL


@lru_cache(maxsize=1)
def few_shot_examples() -> tuple[dict[str, str], ...]:
    data = tomllib.loads((TEMPLATES_DIR / "planner" / "examples.toml").read_text(encoding="utf-8"))
    return tuple({"caption": e["caption"], "answer": e["answer"].strip()} for e in data["example"])


@lru_cache(maxsize=16)
def _example_types(answer: str) -> tuple[str, ...]:
    return tuple(layer.type for layer in validate_plan(extract_json(answer)).layers)


def _duration_words(duration_s: float) -> str:
    return f"{duration_s / 60:.0f} minutes" if duration_s >= 120 else f"{duration_s:.0f} seconds"


def build_messages(caption: Caption, style: "Style", *, duration_s: float, backend: str = "procedural") -> list[dict[str, str]]:
    """System and user messages for one plan request."""
    banned = sorted(t.name for t in CATALOGUE if banned_reason(t.name, style))
    system = render_template(
        "planner/system.j2",
        style=style,
        banned=banned,
        preferred=[t for t in style.preferred_types if t not in banned],
        catalogue=[t for t in CATALOGUE if t.name not in banned],
        schema=compact_schema(),
        phrasing=phrasing_rule(backend),
        # An example that uses a type this style bans would teach the wrong thing: skip it.
        examples=[e for e in few_shot_examples() if not set(_example_types(e["answer"])) & set(banned)],
    )
    user = render_template(
        "planner/user.j2",
        style=style,
        duration=_duration_words(duration_s),
        caption=quote_data(lx.strip_analysis_prefix(caption.text)),
        cues=[quote_data(c, 40) for c in caption.cues][:20],
        tags=[(quote_data(label, 60), float(score)) for label, score in caption.tags][:10],
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def parse_reply(reply: Any) -> LLMPlan:
    """Extract tolerantly, validate strictly; ``ValueError`` with a one-line reason."""
    try:
        value = extract_json(reply)
    except ExtractionError as exc:
        raise ValueError(str(exc)) from None
    return validate_plan(value)


class LLMPlanner:
    """Plans with a chat LLM; falls back to ``fallback`` (the rules planner) with the reason.

    ``generate`` is a chat generator (``generate(messages, *, seed) -> str``). When it is None
    the model ``model_id`` is loaded on first use with ``load_options`` (``device``,
    ``max_new_tokens``, ``temperature``); a model that cannot be loaded means a fallback plan
    with the reason in its notes, never a crash.
    """

    name = "llm"

    def __init__(
        self,
        generate: Optional[ChatGenerator] = None,
        *,
        model_id: str = DEFAULT_MODEL,
        fallback: Optional[Any] = None,
        backend: str = "procedural",
        tonal_backend: Optional[str] = None,
        load_options: Optional[dict[str, Any]] = None,
    ) -> None:
        self._generate = generate
        self.model_id = model_id
        self.fallback = fallback if fallback is not None else RulePlanner(backend=backend, tonal_backend=tonal_backend)
        self.backend = backend
        self.tonal_backend = tonal_backend
        self.load_options = dict(load_options or {})
        self._load_error: Optional[str] = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_pretrained(
        cls,
        model_id: str = DEFAULT_MODEL,
        *,
        device: str = "auto",
        max_new_tokens: int = 768,
        temperature: float = 0.2,
        fallback: Optional[Any] = None,
        backend: str = "procedural",
        tonal_backend: Optional[str] = None,
    ) -> "LLMPlanner":
        """Load the model now (``ModelUnavailableError`` if it is not on this machine)."""
        generator = HFChatGenerator.from_pretrained(
            model_id, device=device, max_new_tokens=max_new_tokens, temperature=temperature
        )
        return cls(generator, model_id=model_id, fallback=fallback, backend=backend, tonal_backend=tonal_backend)

    @classmethod
    def create(cls, **opts: Any) -> "LLMPlanner":
        """Registry factory: like :meth:`from_pretrained` but loads lazily, on the first plan,
        so a missing model becomes a noted fallback instead of an error. ``model``/``model_id``,
        ``device``, ``max_new_tokens``, ``temperature``, ``backend``, ``tonal_backend``,
        ``fallback`` are accepted."""
        model_id = opts.pop("model_id", None) or opts.pop("model", None) or default_model_id()
        load = {k: opts.pop(k) for k in ("device", "max_new_tokens", "temperature") if k in opts}
        return cls(opts.pop("generate", None), model_id=model_id, load_options=load, **opts)

    @classmethod
    def availability(cls, model_id: Optional[str] = None) -> tuple[bool, str]:
        """Whether transformers is importable and ``model_id`` (default: the 1.5B model, or
        the 0.5B one when only that is present) is in the local cache, without loading it."""
        model_id = model_id or default_model_id()
        if importlib.util.find_spec("transformers") is None or importlib.util.find_spec("torch") is None:
            return False, "the LLM planner needs transformers and torch; run `pip install -r requirements.txt`"
        if model_in_cache(model_id) is None:
            return False, (
                f"planner LLM {model_id!r} is not in the local Hugging Face cache; "
                f"on a machine with internet run `python -m studio models download {model_id}` "
                f"(or {CPU_MODEL} for CPU); the rules planner is used meanwhile"
            )
        return True, f"ready ({model_id})"

    def _generator(self) -> ChatGenerator:
        if self._generate is None:
            if self._load_error is not None:
                raise RuntimeError(self._load_error)
            if model_in_cache(self.model_id) is None:
                # Planning never starts a multi-gigabyte download; the Models page or
                # `python -m studio models download` does that on request.
                self._load_error = self.availability(self.model_id)[1]
                raise RuntimeError(self._load_error)
            try:
                self._generate = HFChatGenerator.from_pretrained(self.model_id, **self.load_options)
            except StudioError as exc:
                self._load_error = str(exc)
                raise RuntimeError(self._load_error) from None
        return self._generate

    # ------------------------------------------------------------------ planning

    def plan(self, caption: "Caption | str", *, style: "Style", duration_s: float, seed: int) -> ScenePlan:
        """A plan from the model, or from the fallback planner with the reason in ``notes``."""
        caption = check_request(caption, duration_s, seed)
        messages = build_messages(caption, style, duration_s=float(duration_s), backend=self.backend)
        notes = PlanNotes()
        try:
            generate = self._generator()
        except RuntimeError as exc:
            return self._fall_back(caption, style, duration_s, seed, f"LLM unavailable: {exc}")

        parsed: Optional[LLMPlan] = None
        for attempt in range(2):
            try:
                reply = generate(messages, seed=(seed + attempt) % (2**32))
            except Exception as exc:  # noqa: BLE001 - any model failure means: use the fallback
                return self._fall_back(caption, style, duration_s, seed, f"LLM generation failed: {type(exc).__name__}: {clean_text(exc, 200)}")
            try:
                parsed = parse_reply(reply)
                break
            except ValueError as exc:
                reason = clean_text(exc, 300)
                if attempt == 1:
                    return self._fall_back(caption, style, duration_s, seed, f"LLM output invalid after one repair round: {reason}")
                notes.add(f"LLM output invalid ({reason}); asked the model to repair it")
                messages = [
                    *messages,
                    {"role": "assistant", "content": clean_text(reply, MAX_REPLY_IN_REPAIR) if isinstance(reply, str) else ""},
                    {"role": "user", "content": render_template("planner/repair.j2", error=reason)},
                ]
        assert parsed is not None
        explicit = lx.explicit_types(caption.text.lower())
        negated, excluded = scene_constraints(caption)
        proposed = []
        for choice in to_choices(parsed, explicit):
            # The model's judgement, but not against the caption: "no birds" means no birds,
            # and frogs on a frozen lake stay out unless the caption asks for them.
            if choice.type in negated:
                notes.add(sentence(f"{sound_name(choice.type)} left out: the caption rules it out."),
                          f"dropped {choice.type}: the caption rules it out")
            elif choice.type in excluded and choice.source != "explicit":
                notes.add(sentence(f"{sound_name(choice.type)} left out: it would not fit this scene."),
                          f"dropped {choice.type}: contradicts the scene ({', '.join(excluded[choice.type])})")
            else:
                proposed.append(choice)
        chosen = enforce_style(proposed, style, notes)
        scene_beds = [c for c in chosen if c.role == "background" and c.source != "style"]
        if not [c for c in chosen if c.source != "style"]:
            return self._fall_back(caption, style, duration_s, seed, "LLM plan had no layer the style allows")
        if len(scene_beds) < style.min_beds and isinstance(self.fallback, RulePlanner):
            rules_choice = self.fallback.choose(self.fallback.analyse(caption), style, [])
            extra = [c for c in rules_choice if c.role == "background" and c.source != "style"]
            if extra:
                notes.add(sentence(f"{sound_name(extra[0].type)} added as the steady background the model left out."),
                          f"LLM plan had no bed; added {extra[0].type} from the rules planner")
                chosen = enforce_style([extra[0], *[c for c in chosen if c.source != "style"]], style, notes)
        if parsed.notes:
            notes.add(f"model: {parsed.notes}")
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

    def _fall_back(self, caption: Caption, style: "Style", duration_s: float, seed: int, reason: str) -> ScenePlan:
        plan = self.fallback.plan(caption, style=style, duration_s=duration_s, seed=seed)
        planner = f"{self.name}->{getattr(self.fallback, 'name', plan.planner)}"
        return plan.model_copy(update={"planner": planner, "notes": (reason, *plan.notes)})
