"""From sound tags to an image prompt with a visual style.

``image_prompt(tags, style="watercolour")`` turns the tags (best first) into a scene phrase,
adds the style's medium words and, when given a chat generator (the LLM planner's
``studio.planning.chat_model`` interface: ``generate(messages, *, seed) -> str``), lets it
rewrite the scene in one sentence. The LLM's answer is kept only when it is one plausible line;
otherwise the rule-made prompt stands and ``refined`` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

from studio.errors import InputError

STYLES: dict[str, str] = {
    "watercolour": "soft watercolour painting, wet washes of colour on textured paper",
    "photograph": "natural light photograph, 35mm, shallow depth of field",
    "ink": "ink drawing, expressive brush strokes, sumi-e",
    "oil": "oil painting, thick impasto brushwork, rich colour",
    "pastel": "soft pastel drawing, muted chalky tones",
    "woodcut": "woodcut print, bold carved lines, limited palette",
    "minimal": "minimalist flat illustration, calm geometric shapes",
}
DEFAULT_STYLE = "watercolour"
MIN_SCORE_SHARE = 0.1  # a tag weaker than this share of the best one is left out of the scene


@dataclass(frozen=True)
class ImagePrompt:
    """``text`` (the prompt for the image model), ``scene`` (the subject phrase), ``style``,
    ``negative`` (things to avoid), ``refined`` (None, or a note on the LLM's rewrite)."""

    text: str
    scene: str
    style: str
    negative: str
    refined: Optional[str] = None


def check_style(style: Optional[str]) -> str:
    style = (style or DEFAULT_STYLE).strip().lower()
    if style not in STYLES:
        raise InputError(f"unknown visual style {style!r}; choose one of: {', '.join(STYLES)}")
    return style


def scene_phrase(tags: Sequence[tuple[str, float]], *, max_tags: int = 3) -> str:
    """The leading tags joined as a scene ("ocean surf with seagulls and gusty wind")."""
    if not tags:
        raise InputError("no sound tags to build an image prompt from")
    best = max(float(tags[0][1]), 1e-9)
    kept = [label.replace("_", " ") for label, score in tags[:max_tags] if float(score) >= MIN_SCORE_SHARE * best]
    if len(kept) == 1:
        return kept[0]
    return f"{kept[0]} with " + " and ".join(kept[1:])


def image_prompt(tags: Sequence[tuple[str, float]], *, style: Optional[str] = None,
                 chat: Any = None, seed: int = 0) -> ImagePrompt:
    style = check_style(style)
    scene = f"a scene of {scene_phrase(tags)}"
    refined = None
    if chat is not None:
        scene, refined = _refine(chat, scene, tags, seed)
    text = f"{scene}, {STYLES[style]}, no text, no people in the foreground"
    return ImagePrompt(text, scene, style, "text, watermark, logo, blurry, distorted", refined)


def _refine(chat: Any, scene: str, tags: Sequence[tuple[str, float]], seed: int) -> tuple[str, str]:
    labels = ", ".join(label for label, _ in tags[:5])
    messages = [
        {"role": "system", "content": "You write one short visual scene description for an image generator. "
                                      "Answer with one sentence of at most 30 words, no quotes."},
        {"role": "user", "content": f"Sounds heard in a recording: {labels}. Describe the place where it was recorded."},
    ]
    try:
        answer = str(chat(messages, seed=seed)).strip().strip('"').strip()
    except Exception as exc:  # noqa: BLE001 - a failing optional refinement keeps the rule prompt
        from studio.errors import first_line

        return scene, f"LLM refinement failed ({first_line(exc, 120)}); kept the tag prompt"
    line = answer.splitlines()[0].strip() if answer else ""
    if not 3 <= len(line.split()) <= 40:
        return scene, "LLM answer was empty or too long; kept the tag prompt"
    return line.rstrip("."), "refined by the LLM"
