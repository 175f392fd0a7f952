"""Failures inside model calls become BackendErrors; dtype follows the model card and can be
overridden; memory options (CPU offload, 8-bit BLIP-2, emptying the CUDA cache) follow their
rules. Accelerator-only paths are checked with stand-ins, since there is no GPU here."""

from __future__ import annotations

import pytest

from studio.errors import BackendError, InputError, ModelUnavailableError
from studio.generation import BACKENDS

INJECTED = [
    AttributeError("'GPT2Model' object has no attribute '_update_model_kwargs_for_generation'"),
    KeyError("input_ids"),
    TypeError("forward() got an unexpected keyword argument 'cache_position'"),
]


def _raiser(exc):
    def _raise(*args, **kwargs):
        raise exc

    return _raise


# backend, fixture, params, where in the loaded components the failure is injected
CALLS = [
    ("musicgen", "musicgen_mono", {}, lambda comps: (comps["model"], "generate")),
    ("stable-audio", "stable_audio_dir", {"steps": 2}, lambda pipe: (pipe.transformer, "forward")),
    ("audioldm2", "audioldm2_dir", {"steps": 2}, lambda pipe: (pipe.language_model, "forward")),
]


@pytest.mark.parametrize("name, fixture, params, where", CALLS, ids=[c[0] for c in CALLS])
def test_any_exception_in_a_model_call_is_a_backend_error(name, fixture, params, where, request, monkeypatch,
                                                          no_resident_model):
    folder = str(request.getfixturevalue(fixture))
    backend = BACKENDS.create(name, model_id=folder)
    target, attr = where(backend.components())
    for exc in INJECTED:
        monkeypatch.setattr(target, attr, _raiser(exc))
        with pytest.raises(BackendError) as info:
            backend.generate("rain", duration_s=0.2, seed=1, **params)
        message = str(info.value)
        assert "\n" not in message and "Traceback" not in message
        assert message.startswith(f"{name} model {folder!r} failed while generating ({type(exc).__name__}: ")
        assert info.value.__cause__ is exc  # the cause stays chained for logs
    monkeypatch.undo()
    assert backend.generate("rain", duration_s=0.2, seed=1, **params).frames > 0  # recovers


def test_failures_reach_the_cli_as_one_line(musicgen_mono, monkeypatch, capsys, no_resident_model):
    """A failing model call inside a CLI command: ``error: ...`` on one line, exit code 2."""
    import studio.cli.cmd_doctor as cmd
    from studio.cli import main
    from studio.generation.musicgen import MusicGenBackend

    backend = BACKENDS.create("musicgen", model_id=str(musicgen_mono))
    monkeypatch.setattr(MusicGenBackend, "_run", _raiser(KeyError("decoder_input_ids")))
    # any command that generates; the CLI's top level is the same for all of them
    monkeypatch.setattr(cmd, "run", lambda args: backend.generate("rain", duration_s=0.2, seed=1) and 0)
    capsys.readouterr()  # the loading progress bars
    assert main(["doctor"]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: musicgen model {str(musicgen_mono)!r} failed while generating "
                   f"(KeyError: 'decoder_input_ids')\n")


# ----------------------------------------------------------------------------- dtype


@pytest.fixture
def cuda_here(monkeypatch):
    """Pretend a CUDA GPU is present; ``bf16`` sets whether it supports bfloat16."""
    import torch

    monkeypatch.delenv("STUDIO_DTYPE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)

    def with_bf16(supported: bool) -> None:
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: supported)

    with_bf16(True)
    return with_bf16


def test_dtype_follows_the_model_card(cuda_here, monkeypatch):
    import torch

    from studio.devices import pick_dtype, resolve_dtype
    from studio.generation.audioldm2 import AudioLDM2Backend
    from studio.generation.musicgen import MusicGenBackend
    from studio.generation.stable_audio import StableAudioBackend
    from studio.planning.chat_model import CARD_DTYPE

    # fp16 where the card runs fp16 on GPU; bf16 for the planner LLM (Qwen was trained in bf16)
    assert {cls.card_dtype for cls in (MusicGenBackend, StableAudioBackend, AudioLDM2Backend)} == {"float16"}
    assert CARD_DTYPE == "bfloat16"
    assert pick_dtype("cuda", card="float16") == torch.float16
    assert pick_dtype("cuda", card=CARD_DTYPE) == torch.bfloat16
    assert pick_dtype("cuda:1", card="float32") == torch.float32
    cuda_here(False)  # an older GPU without bf16: fp32, never fp16, for a bf16-trained model
    assert pick_dtype("cuda", card=CARD_DTYPE) == torch.float32
    assert pick_dtype("cuda", card="float16", prefer_bf16=True) == torch.float16
    for device in ("cpu", "mps"):  # fp32 off CUDA whatever the card says
        assert pick_dtype(device, card=CARD_DTYPE) == pick_dtype(device) == torch.float32
    # overrides: STUDIO_DTYPE beats the card; an explicit dtype beats both
    monkeypatch.setenv("STUDIO_DTYPE", "fp32")
    assert pick_dtype("cuda", card="float16") == torch.float32
    assert resolve_dtype("cuda", "bf16") == torch.bfloat16 and resolve_dtype("cuda", torch.float16) == torch.float16
    assert resolve_dtype("cuda", "auto") == torch.float32
    monkeypatch.setenv("STUDIO_DTYPE", "auto")
    assert resolve_dtype("cuda", None, card=CARD_DTYPE) == torch.bfloat16 or not torch.cuda.is_bf16_supported()
    monkeypatch.setenv("STUDIO_DTYPE", "int8")
    with pytest.raises(InputError, match="unknown dtype 'int8'; choose auto or one of: float32, float16, bfloat16"):
        pick_dtype("cpu")
    with pytest.raises(InputError, match="unknown dtype"):
        resolve_dtype("cpu", "double")


def test_dtype_option_and_environment_reach_the_backend(musicgen_mono, monkeypatch, no_resident_model):
    monkeypatch.delenv("STUDIO_DTYPE", raising=False)
    assert BACKENDS.create("musicgen", model_id=str(musicgen_mono)).metadata()["dtype"] == "float32"
    backend = BACKENDS.create("musicgen", model_id=str(musicgen_mono), dtype="bf16")
    assert backend.metadata()["dtype"] == "bfloat16"
    assert str(backend.components()["model"].dtype) == "torch.bfloat16"
    monkeypatch.setenv("STUDIO_DTYPE", "bfloat16")
    assert BACKENDS.create("musicgen", model_id=str(musicgen_mono)).metadata()["dtype"] == "bfloat16"
    with pytest.raises(InputError, match="unknown dtype"):
        BACKENDS.create("musicgen", model_id=str(musicgen_mono), dtype="float8")


# ----------------------------------------------------------------------------- CPU offload


class FakePipe:
    def __init__(self) -> None:
        self.calls: list = []

    def to(self, device):
        self.calls.append(("to", device))
        return self

    def enable_model_cpu_offload(self, device=None):
        self.calls.append(("offload", device))


def test_cpu_offload_only_on_cuda_and_only_when_asked():
    from studio.generation.neural_base import offload_placement, place_pipeline

    for device, offload, expected in (("cuda", True, [("offload", "cuda")]), ("cuda:1", True, [("offload", "cuda:1")]),
                                      ("cuda", False, [("to", "cuda")]), ("cpu", True, [("to", "cpu")]),
                                      ("mps", True, [("to", "mps")])):
        pipe = FakePipe()
        assert place_pipeline(pipe, device, offload) is pipe and pipe.calls == expected
    assert offload_placement("cuda") == "cpu-offload"
    assert offload_placement("cpu") == "device (cpu_offload needs CUDA)"


def test_cpu_offload_option(stable_audio_dir, musicgen_mono, monkeypatch, no_resident_model):
    backend = BACKENDS.create("stable-audio", model_id=str(stable_audio_dir), cpu_offload=True)
    assert backend.metadata()["placement"] == "device (cpu_offload needs CUDA)"  # CPU here: stays put
    monkeypatch.setenv("STUDIO_CPU_OFFLOAD", "1")
    assert BACKENDS.create("stable-audio", model_id=str(stable_audio_dir)).placement.startswith("device (")
    # MusicGen is not a diffusers pipeline: the option is refused, the environment ignored
    assert "placement" not in BACKENDS.create("musicgen", model_id=str(musicgen_mono)).metadata()
    with pytest.raises(InputError, match="cpu_offload is only for the diffusers backends"):
        BACKENDS.create("musicgen", model_id=str(musicgen_mono), cpu_offload=True)


# ----------------------------------------------------------------------------- 8-bit BLIP-2


def test_blip2_8bit_needs_cuda_and_bitsandbytes(monkeypatch):
    import studio.generation.neural_base as nb
    from studio.vision.blip import Blip2Captioner, BlipCaptioner

    assert Blip2Captioner._quantization("cuda", False) == {}
    with pytest.raises(InputError, match="load_in_8bit needs a CUDA GPU"):
        Blip2Captioner._quantization("cpu", True)
    with pytest.raises(InputError, match="BLIP-2 only"):
        BlipCaptioner._quantization("cuda", True)
    monkeypatch.setattr(nb, "modules_present", lambda *names: "bitsandbytes")
    with pytest.raises(ModelUnavailableError, match="pip install bitsandbytes"):
        Blip2Captioner._quantization("cuda", True)
    monkeypatch.setattr(nb, "modules_present", lambda *names: None)
    kwargs = Blip2Captioner._quantization("cuda", True)
    assert kwargs["quantization_config"].load_in_8bit and kwargs["device_map"] == {"": "cuda"}


def test_blip2_8bit_load_passes_quantization_and_does_not_move_the_model(monkeypatch):
    import transformers

    from studio.vision.blip import Blip2Captioner

    seen = {}

    class FakeModel:
        @classmethod
        def from_pretrained(cls, path, **kwargs):
            seen.update(kwargs)
            return cls()

        def to(self, device):  # an 8-bit model placed by device_map cannot be moved
            raise AssertionError("moved a quantized model")

        def eval(self):
            return self

    class FakeProcessor:
        @classmethod
        def from_pretrained(cls, path):
            return cls()

    monkeypatch.setattr(transformers, "Blip2ForConditionalGeneration", FakeModel)
    monkeypatch.setattr(transformers, "Blip2Processor", FakeProcessor)
    quantized = {"quantization_config": "8bit", "device_map": {"": "cuda"}}
    model, _ = Blip2Captioner._load("folder", "Salesforce/blip2-opt-2.7b", "cuda", "float16", **quantized)
    assert isinstance(model, FakeModel) and seen == {"dtype": "float16", **quantized}


# ----------------------------------------------------------------------------- releasing memory


@pytest.fixture
def empty_cache_calls(monkeypatch):
    import torch

    calls = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: calls.append(1))
    return calls


def test_cuda_cache_is_emptied_whenever_a_stage_is_released(empty_cache_calls, musicgen_mono, no_resident_model):
    from studio.pipeline import SoundscapePipeline

    class Stage:
        unloaded = False

        def unload(self):
            Stage.unloaded = True

    pipeline = SoundscapePipeline()
    pipeline._cache[("captioner", "blip2")] = Stage()
    pipeline.release_stages()
    assert Stage.unloaded and len(empty_cache_calls) == 1
    backend = BACKENDS.create("musicgen", model_id=str(musicgen_mono), device="cpu")
    before = len(empty_cache_calls)
    assert backend.unload() and len(empty_cache_calls) == before + 1
