"""Sound to image: audio intake, tags, an image prompt and an image (see docs/reverse.md).

``tag_audio(path)`` → :class:`studio.reverse.tagging.TagResult`; ``imagine(path, style=...)`` →
:class:`studio.reverse.imagine.Imagined` (tags, prompt, image and how it was made). Registries:
``AUDIO_TAGGERS`` (features, clap, ast) and ``IMAGE_MAKERS`` (painting, diffusion). Nothing heavy
is imported here.
"""

from studio.registry import Registry

AUDIO_TAGGERS: Registry = Registry("audio tagger")
AUDIO_TAGGERS.register("features", "studio.reverse.taggers:FeatureTagger")
AUDIO_TAGGERS.register("clap", "studio.reverse.taggers:ClapTagger")
AUDIO_TAGGERS.register("ast", "studio.reverse.taggers:AstTagger")

IMAGE_MAKERS: Registry = Registry("image maker")
IMAGE_MAKERS.register("painting", "studio.reverse.painting:SoundPainter")
IMAGE_MAKERS.register("diffusion", "studio.reverse.diffusion:DiffusionImager")
