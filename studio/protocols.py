"""The stage protocols. Implementations are registered by name in each stage's registry:
``studio.vision.CAPTIONERS``/``TAGGERS``, ``studio.planning.PLANNERS``,
``studio.generation.BACKENDS``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Protocol, runtime_checkable

from studio.types import AudioClip, Caption, Progress, ScenePlan

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from studio.planning.styles import Style


@runtime_checkable
class Captioner(Protocol):
    def caption(self, image: "Image.Image") -> Caption: ...


@runtime_checkable
class SoundTagger(Protocol):
    def tags(self, image: "Image.Image", *, top_k: int = 5) -> list[tuple[str, float]]: ...


@runtime_checkable
class ScenePlanner(Protocol):
    def plan(self, caption: Caption, *, style: "Style", duration_s: float, seed: int) -> ScenePlan: ...


@runtime_checkable
class AudioBackend(Protocol):
    """``generate`` returns float32 ``(channels, frames)`` at ``sample_rate`` Hz, at most
    ``max_clip_s`` long; longer layers are built by the mixer. ``params`` are the layer's
    backend parameters (``LayerSpec.params``)."""

    name: str
    sample_rate: int
    max_clip_s: float

    def generate(
        self,
        prompt: str,
        *,
        duration_s: float,
        seed: int,
        progress: Optional[Progress] = None,
        **params: Any,
    ) -> AudioClip: ...
