"""Sound to image in one call each: ``tag_audio`` (file → tags) and ``imagine`` (file → tags →
prompt → image). The CLI (``tag``, ``imagine``) and the Sound to Image page call these.

With ``tagger=None``/``image_maker=None`` the neural choice (``clap``, ``diffusion``) is used
when its model is on this machine, else the offline default (``features``, ``painting``), and
a note says so; naming one explicitly is strict (a missing model is an error saying how to get it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from studio.reverse import AUDIO_TAGGERS, IMAGE_MAKERS


@dataclass
class TagResult:
    """``tags`` ``[(label, score)]`` best first, ``tagger`` (registry name), ``model``,
    ``audio`` (the intake facts), ``notes``."""

    tags: list[tuple[str, float]]
    tagger: str
    model: str
    audio: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"tags": [{"label": label, "score": score} for label, score in self.tags],
                               "tagger": self.tagger, "model": self.model, "audio": self.audio}
        if self.notes:
            out["notes"] = self.notes
        return out

    def caption(self) -> str:
        """A short caption of the recording for the Studio ("recording of rain with thunder")."""
        from studio.reverse.prompt import scene_phrase

        return f"a field recording of {scene_phrase(self.tags)}"


@dataclass
class Imagined:
    tags: TagResult
    prompt: Any  # studio.reverse.prompt.ImagePrompt
    image: Any  # PIL.Image.Image
    image_maker: str
    model: str
    label: Optional[str] = None  # set for the offline painting: what the picture is
    notes: list[str] = field(default_factory=list)


def _pick(registry, name: Optional[str], neural: str, offline: str, notes: list[str], model_id: Optional[str]) -> str:
    if name:
        registry.get(name)  # unknown names fail here with the list of choices
        return name
    ok, why = registry.availability(neural, model_id)
    if ok:
        return neural
    notes.append(f"{registry.kind} {neural!r} not available ({why}); used the offline {offline!r}")
    return offline


def planner_chat(device: str = "auto") -> tuple[Any, Optional[str]]:
    """The LLM planner's chat model for prompt refinement when it is on this machine, else
    ``(None, note)``; it never downloads."""
    from studio.planning.chat_model import HFChatGenerator, model_in_cache
    from studio.planning.llm import default_model_id

    model_id = default_model_id()
    if model_in_cache(model_id) is None:
        return None, f"prompt not refined: the LLM {model_id!r} is not in the local cache"
    return HFChatGenerator.from_pretrained(model_id, device=device, max_new_tokens=80), None


def tag_audio(path: str | Path, *, top_k: int = 5, tagger: Optional[str] = None, model_id: Optional[str] = None,
              device: str = "auto", excerpts: Optional[list] = None) -> TagResult:
    """Read ``path`` (``studio.reverse.intake``) and tag it. ``tagger``: features, clap, ast or
    None (best available). ``excerpts`` may pass already-read excerpts of the same file."""
    from studio.reverse.intake import load_excerpts, probe_audio
    from studio.reverse.taggers import _check_top_k

    _check_top_k(top_k)
    info = probe_audio(path)  # a bad file fails before any model loads
    notes: list[str] = []
    name = _pick(AUDIO_TAGGERS, tagger, "clap", "features", notes, model_id)
    opts: dict[str, Any] = {} if name == "features" else {"device": device, **({"model_id": model_id} if model_id else {})}
    impl = AUDIO_TAGGERS.create(name, **opts)
    excerpts = excerpts or load_excerpts(path, info=info)
    tags = impl.tags(excerpts, top_k=top_k)
    audio = {"file": info.path.name, "format": info.format, "sample_rate": info.sample_rate,
             "channels": info.channels, "duration_s": round(info.duration_s, 3)}
    return TagResult(tags, name, impl.model_id, audio, notes)


def imagine(path: str | Path, *, style: Optional[str] = None, tagger: Optional[str] = None,
            tag_model: Optional[str] = None, image_maker: Optional[str] = None, model_id: Optional[str] = None, width: int = 768, height: int = 512,
            seed: int = 0, chat: Any = None, refine: bool = False, device: str = "auto") -> Imagined:
    """Tags, prompt and image for the audio file ``path``. ``image_maker``: painting, diffusion
    or None (diffusion when its model is here, else the painting); ``model_id`` is the
    diffusion model, ``tag_model`` the tagger's; ``chat`` a chat generator that refines the
    prompt, or ``refine=True`` to use the LLM planner's model when it is here."""
    from studio.reverse.diffusion import check_size
    from studio.reverse.intake import load_excerpts, probe_audio
    from studio.reverse.prompt import check_style, image_prompt

    style = check_style(style)
    width, height = check_size(width, height)
    info = probe_audio(path)
    excerpts = load_excerpts(path, info=info)
    tags = tag_audio(path, tagger=tagger, model_id=tag_model, device=device, excerpts=excerpts)
    notes = list(tags.notes)
    if chat is None and refine:
        chat, why = planner_chat(device)
        notes += [why] if why else []
    prompt = image_prompt(tags.tags, style=style, chat=chat, seed=seed)
    maker = _pick(IMAGE_MAKERS, image_maker, "diffusion", "painting", notes, model_id)
    if maker == "painting":
        from studio.reverse.painting import LABEL, SoundPainter

        image = SoundPainter().paint(excerpts, width=width, height=height)
        return Imagined(tags, prompt, image, maker, SoundPainter.model_id, LABEL, notes)
    opts: dict[str, Any] = {"device": device}
    if model_id:
        opts["model_id"] = model_id
    imager = IMAGE_MAKERS.create(maker, **opts)
    image = imager.generate(prompt.text, negative_prompt=prompt.negative, width=width, height=height, seed=seed)
    return Imagined(tags, prompt, image, maker, imager.model_id, None, notes)


def save_image(result: Imagined, out: str | Path) -> Path:
    """Write the image as PNG (atomically), with the prompt, tags and label in its text chunk."""
    import json

    from PIL.PngImagePlugin import PngInfo

    from studio.atomic import atomic_open
    from studio.errors import ExportError

    out = Path(out)
    if out.suffix.lower() != ".png":
        raise ExportError(f"--out must name a .png file; got {str(out)!r}")
    if not out.parent.exists():
        raise ExportError(f"folder {str(out.parent)!r} does not exist")
    meta = PngInfo()
    meta.add_text("prompt", result.prompt.text)
    meta.add_text("tags", json.dumps(result.tags.to_json()["tags"]))
    meta.add_text("made_by", f"{result.image_maker} ({result.model})")
    if result.label:
        meta.add_text("label", result.label)
    try:
        with atomic_open(out) as fh:
            result.image.save(fh, format="PNG", pnginfo=meta)
    except OSError as exc:
        raise ExportError(f"cannot write {str(out)!r}: {exc.strerror or exc}") from None
    return out
