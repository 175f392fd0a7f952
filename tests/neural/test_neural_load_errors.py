"""How ``NeuralBackend.from_pretrained`` words a failure raised inside the model loader:
a missing package, a library version mismatch, the studio's own errors, damaged files and
unexpected errors. The loader is replaced by one that raises, so no model is built."""

from __future__ import annotations

import pytest

from studio.errors import InputError, ModelUnavailableError
from studio.generation import BACKENDS
from studio.generation.musicgen import MusicGenBackend
from studio.generation.neural_base import RESIDENT

MODEL_ID = "facebook/musicgen-small"


@pytest.fixture
def load_raises(monkeypatch, no_resident_model):
    """``load_raises(exc)``: MusicGen's loader raises ``exc`` for the hub id; ``exc`` may
    also be a function that raises (for errors Python itself makes, like a failed import)."""

    def install(exc):
        def load(cls, path, device, dtype):
            if isinstance(exc, BaseException):
                raise exc
            exc()

        monkeypatch.setattr(MusicGenBackend, "_resolve", classmethod(lambda cls, model_id: model_id))
        monkeypatch.setattr(MusicGenBackend, "_load", classmethod(load))

    return install


def _create_error() -> ModelUnavailableError:
    with pytest.raises(ModelUnavailableError) as err:
        BACKENDS.create("musicgen", device="cpu")
    assert RESIDENT.key is None
    return err.value


def test_missing_package_without_a_name_quotes_its_first_sentence(load_raises):
    from transformers.utils.import_utils import SENTENCEPIECE_IMPORT_ERROR

    # what transformers' requires_backends raises: multi-line text, ImportError.name None
    load_raises(ImportError(SENTENCEPIECE_IMPORT_ERROR.format("T5Tokenizer")))
    msg = str(_create_error())
    assert "\n" not in msg and "'\\n" not in msg and "`'" not in msg
    assert "T5Tokenizer requires the SentencePiece library but it was not found in your environment" in msg
    assert "Check out the instructions" not in msg  # the rest of the paragraph is not copied
    assert MODEL_ID in msg and "pip install -r requirements-neural.txt" in msg


def test_missing_module_names_the_package(load_raises):
    def fail():
        import studio_no_such_package.sub  # noqa: F401

    load_raises(fail)
    msg = str(_create_error())
    assert "needs the 'studio_no_such_package' package" in msg and MODEL_ID in msg


def test_cannot_import_name_is_a_version_mismatch_not_a_missing_package(load_raises):
    def fail():
        from json import no_such_name  # noqa: F401  (a real "cannot import name" ImportError)

    load_raises(fail)
    msg = str(_create_error())
    assert "needs the 'json' package" not in msg and "package to load" not in msg
    assert "version mismatch" in msg
    assert "cannot import name 'no_such_name' from 'json'" in msg  # the import that failed
    assert "pip install -r requirements-neural.txt" in msg and "matching versions" in msg
    assert "models download" not in msg


def test_missing_submodule_of_an_installed_package_is_a_version_mismatch(load_raises):
    def fail():
        import json.no_such_submodule  # noqa: F401

    load_raises(fail)
    msg = str(_create_error())
    assert "version mismatch" in msg and "json.no_such_submodule" in msg
    assert "needs the 'json' package" not in msg


def test_studio_errors_from_the_loader_pass_through_unchanged(load_raises):
    original = InputError("unknown dtype 'fp8'; choose one of: float32, float16, bfloat16")

    load_raises(original)
    with pytest.raises(InputError) as err:
        BACKENDS.create("musicgen", device="cpu")
    assert err.value is original
    assert str(err.value) == "unknown dtype 'fp8'; choose one of: float32, float16, bfloat16"


@pytest.mark.parametrize("exc", [
    TypeError("from_pretrained() got an unexpected keyword argument 'dtype'\nsecond line"),
    AttributeError("'NoneType' object has no attribute 'config'"),
    RuntimeError("CUDA error: no kernel image is available for execution on the device"),
])
def test_unexpected_errors_do_not_promise_a_download_fixes_them(load_raises, exc):
    load_raises(exc)
    err = _create_error()
    msg = str(err)
    assert "download" not in msg
    assert f"{MODEL_ID!r} could not be loaded" in msg
    first_line = str(exc).splitlines()[0]
    assert f"({type(exc).__name__}: {first_line})" in msg and "\n" not in msg
    assert err.__cause__ is exc  # the traceback stays available for a bug report


@pytest.mark.parametrize("exc", [
    OSError("model.safetensors not found"),
    ValueError("Unrecognized model in x. Should have a `model_type` key in its config.json."),
    RuntimeError("Error(s) in loading state_dict for MusicgenForConditionalGeneration:\n\tsize mismatch"),
])
def test_file_problems_still_say_how_to_get_the_model(load_raises, exc):
    load_raises(exc)
    msg = str(_create_error())
    assert f"python -m studio models download {MODEL_ID}" in msg
    assert str(exc).splitlines()[0] in msg
