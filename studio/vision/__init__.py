"""Image intake, captioners and sound taggers."""

from studio.registry import Registry

CAPTIONERS: Registry = Registry("captioner")
CAPTIONERS.register("analysis", "studio.vision.analysis:AnalysisCaptioner")
CAPTIONERS.register("blip2", "studio.vision.blip:Blip2Captioner")
CAPTIONERS.register("blip", "studio.vision.blip:BlipCaptioner")

TAGGERS: Registry = Registry("sound tagger")
TAGGERS.register("clip", "studio.vision.clip_tags:ClipTagger")
