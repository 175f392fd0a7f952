"""``python -m studio models`` / ``models download`` / ``doctor`` and the model catalogue."""

from __future__ import annotations

import fnmatch
import json

import pytest

from neural_tiny_models import put_in_cache
from studio import models
from studio.cli import main
from studio.errors import InputError, ModelUnavailableError

REQUIRED_IDS = [
    "facebook/musicgen-small", "facebook/musicgen-medium", "facebook/musicgen-large", "facebook/musicgen-melody",
    "facebook/musicgen-stereo-small", "stabilityai/stable-audio-open-1.0", "cvssp/audioldm2",
    "facebook/audiogen-medium", "t5-large", "laion/clap-htsat-unfused", "Salesforce/blip2-opt-2.7b",
    "Salesforce/blip-image-captioning-large", "openai/clip-vit-large-patch14", "Qwen/Qwen2.5-1.5B-Instruct",
    "Qwen/Qwen2.5-0.5B-Instruct",
]


def test_catalogue_defaults_match_the_backends():
    from studio.generation.audiogen import AudioGenBackend
    from studio.generation.audioldm2 import AudioLDM2Backend
    from studio.generation.musicgen import MusicGenBackend
    from studio.generation.stable_audio import StableAudioBackend

    for cls in (MusicGenBackend, StableAudioBackend, AudioLDM2Backend, AudioGenBackend):
        assert models.default_model(cls.name).id == cls.default_model_id
    assert models.get_model("stabilityai/stable-audio-open-1.0").gated
    assert "non-commercial" in models.licence_for("facebook/musicgen-small")
    with pytest.raises(InputError, match="unknown model 'nope/nope'; known models: facebook/musicgen-small"):
        models.get_model("nope/nope")


def test_models_list_shows_cache_state(musicgen_mono, hf_cache, capsys):
    put_in_cache(hf_cache, "facebook/musicgen-small", musicgen_mono)
    assert main(["models", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)["models"]}
    assert set(REQUIRED_IDS) <= set(rows)
    assert rows["facebook/musicgen-small"]["cached"] is True
    assert rows["cvssp/audioldm2"]["cached"] is False
    assert rows["sentence-transformers/all-MiniLM-L6-v2"]["cached"] is True  # packaged
    for row in rows.values():
        assert row["licence"] and row["size_gb"] > 0 and row["kind"]

    assert main(["models"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["id", "kind", "size", "cached"]
    line = next(ln for ln in table if ln.startswith("facebook/musicgen-small "))
    assert " yes " in line and "CC-BY-NC-4.0" in line and "musicgen" in line
    assert "[gated]" in next(ln for ln in table if ln.startswith("stabilityai/"))


def test_download_honours_offline_mode(offline, capsys):
    assert main(["models", "download", "facebook/musicgen-small"]) == 2
    err = capsys.readouterr().err
    assert "error: cannot download 'facebook/musicgen-small': offline mode is on" in err
    with pytest.raises(ModelUnavailableError, match="HF_HUB_OFFLINE"):
        models.download("cvssp/audioldm2")
    with pytest.raises(InputError, match="owner/name"):
        models.download("../not/an id")


def test_download_fetches_only_the_files_the_loaders_read():
    # file lists as published on the hub (abridged)
    musicgen_small = ["config.json", "generation_config.json", "model.safetensors", "pytorch_model.bin",
                      "state_dict.bin", "compression_state_dict.bin", "preprocessor_config.json", "spiece.model",
                      "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "README.md"]
    assert models.files_to_download(musicgen_small) == [
        "config.json", "generation_config.json", "model.safetensors", "preprocessor_config.json", "spiece.model",
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "README.md"]
    stable_audio = ["model.ckpt", "model.safetensors", "model_config.json", "model_index.json",
                    "transformer/config.json", "transformer/diffusion_pytorch_model.safetensors",
                    "vae/config.json", "vae/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.bin",
                    "text_encoder/config.json", "text_encoder/model.safetensors", "tokenizer/spiece.model",
                    "projection_model/diffusion_pytorch_model.safetensors", "scheduler/scheduler_config.json"]
    kept = models.files_to_download(stable_audio)
    assert "model.ckpt" not in kept and "model.safetensors" not in kept  # stable-audio-tools single files
    assert "vae/diffusion_pytorch_model.bin" not in kept
    assert {"model_index.json", "transformer/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors",
            "tokenizer/spiece.model", "scheduler/scheduler_config.json"} <= set(kept)
    # audiocraft-only repos keep their pickles; sharded transformers repos drop the .bin shards
    audiogen = ["state_dict.bin", "compression_state_dict.bin", "README.md"]
    assert models.files_to_download(audiogen) == audiogen
    sharded = ["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
               "model.safetensors.index.json", "pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin",
               "pytorch_model.bin.index.json", "tf_model.h5", "onnx/model.onnx", "rust_model.ot"]
    assert models.files_to_download(sharded) == [
        "config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
        "model.safetensors.index.json", "pytorch_model.bin.index.json"]
    # only pickles published: they are the weights
    clap = ["config.json", "pytorch_model.bin", "preprocessor_config.json", "vocab.json", "merges.txt"]
    assert models.files_to_download(clap) == clap


def test_download_without_network_fails_fast(no_network, capsys):
    import time

    t0 = time.perf_counter()
    assert main(["models", "download", "facebook/musicgen-small"]) == 2
    assert time.perf_counter() - t0 < 5  # one probe, not the hub client's retries
    err = capsys.readouterr().err
    assert "error: cannot download 'facebook/musicgen-small': http://127.0.0.1:9 cannot be reached" in err
    assert "check the network" in err and "Traceback" not in err
    assert list(no_network.iterdir()) == []


def test_download_passes_a_progress_bar_and_explains_gated_repos(monkeypatch, tmp_path):
    import huggingface_hub
    from huggingface_hub.errors import GatedRepoError

    import studio.hf

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(studio.hf, "hub_unreachable", lambda timeout_s=3.0: None)  # a fake hub that answers
    calls = []

    def fake_snapshot_download(**kwargs):
        calls.append(kwargs)
        if kwargs["repo_id"].startswith("stabilityai/"):
            err = GatedRepoError.__new__(GatedRepoError)  # as raised by the hub client on a 401/403
            Exception.__init__(err, "401 Client Error: access to this model is restricted")
            raise err
        return str(tmp_path)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    monkeypatch.setattr(huggingface_hub.HfApi, "list_repo_files",
                        lambda self, repo_id, token=None: ["config.json", "model.safetensors", "pytorch_model.bin",
                                                           "flax_model.msgpack", "weird[1].json"])
    from tqdm.auto import tqdm

    assert models.download("facebook/musicgen-small", tqdm_class=tqdm) == tmp_path
    assert calls[-1]["repo_id"] == "facebook/musicgen-small" and calls[-1]["tqdm_class"] is tqdm
    # only what the loaders read, as literal patterns
    allowed = calls[-1]["allow_patterns"]
    assert allowed == ["config.json", "model.safetensors", "weird[[]1].json"]
    assert fnmatch.fnmatch("weird[1].json", allowed[2]) and not fnmatch.fnmatch("weird1.json", allowed[2])
    models.download("facebook/musicgen-small", progress=False)  # quiet: a disabled bar for this call only
    quiet_bar = calls[-1]["tqdm_class"](total=3)
    assert quiet_bar.disable
    quiet_bar.close()
    with pytest.raises(ModelUnavailableError, match="gated: accept its licence .*hf auth login"):
        models.download("stabilityai/stable-audio-open-1.0")


@pytest.mark.parametrize("repo_files, found", [
    (["config.json", "onnx/model.onnx", "onnx/model.onnx_data", "flax_model.msgpack", "README.md"],
     "only ONNX, Flax weights (onnx/model.onnx, flax_model.msgpack)"),
    (["config.json", "tf_model.h5", "tokenizer.json"], "only TensorFlow weights (tf_model.h5)"),
    (["config.json", "README.md"], "no weight files the loaders read (config.json, README.md)"),
    ([], "no files"),
])
def test_download_of_a_repo_without_pytorch_weights_is_an_error(monkeypatch, capsys, repo_files, found):
    import huggingface_hub

    import studio.hf

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(studio.hf, "hub_unreachable", lambda timeout_s=3.0: None)  # a fake hub that answers
    calls = []
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda **kwargs: calls.append(kwargs) or "/nowhere")
    monkeypatch.setattr(huggingface_hub.HfApi, "list_repo_files", lambda self, repo_id, token=None: repo_files)

    with pytest.raises(ModelUnavailableError) as err:
        models.download("someone/onnx-only-model")
    msg = str(err.value)
    assert "'someone/onnx-only-model'" in msg and found in msg
    assert "PyTorch weights (*.safetensors" in msg and "nothing was downloaded" in msg
    assert calls == []  # no "successful" download of a config alone
    # the CLI reports it as an error, not "downloaded to ..."
    assert main(["models", "download", "someone/onnx-only-model"]) == 2
    out, errout = capsys.readouterr()
    assert "downloaded to" not in out and found in errout and "Traceback" not in errout
    assert calls == []


def test_download_of_a_repo_with_pytorch_weights_among_others_goes_ahead(monkeypatch, tmp_path):
    import huggingface_hub

    import studio.hf

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(studio.hf, "hub_unreachable", lambda timeout_s=3.0: None)
    calls = []
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda **kwargs: calls.append(kwargs) or str(tmp_path))
    monkeypatch.setattr(huggingface_hub.HfApi, "list_repo_files",
                        lambda self, repo_id, token=None: ["config.json", "onnx/model.onnx", "pytorch_model.bin"])
    assert models.download("someone/mixed-model", progress=False) == tmp_path
    assert calls[-1]["allow_patterns"] == ["config.json", "pytorch_model.bin"]


def test_doctor_reports_device_versions_and_availability(musicgen_mono, hf_cache, offline, capsys):
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["torch"]["device"] == "cpu" and report["torch"]["dtype"] == "float32"
    assert report["libraries"]["torch"].startswith("2.13.0")
    assert report["hub"]["offline"] is True and report["hub"]["cache"] == str(hf_cache)
    backends = report["available"]["audio backends"]
    assert set(backends) >= {"samples", "musicgen", "stable-audio", "audioldm2", "audiogen"}
    assert backends["musicgen"]["ok"] is False and "models download facebook/musicgen-small" in backends["musicgen"]["reason"]
    assert backends["samples"]["ok"] is True
    assert {"captioners", "sound taggers", "planners"} <= set(report["available"])

    put_in_cache(hf_cache, "facebook/musicgen-small", musicgen_mono)
    assert main(["doctor"]) == 0
    text = capsys.readouterr().out
    assert "torch device: cpu (float32)" in text
    assert any(ln.strip().startswith("ok") and " musicgen " in ln for ln in text.splitlines())


def test_this_area_keeps_import_light():
    """Backends, catalogue, scorer and commands import without torch/transformers/diffusers."""
    import subprocess
    import sys

    code = (
        "import sys, studio.generation.musicgen, studio.generation.stable_audio, studio.generation.audioldm2, "
        "studio.generation.audiogen, studio.generation.samples, studio.generation.candidates, studio.models, "
        "studio.evaluation.clap, studio.cli.cmd_models, studio.cli.cmd_doctor; "
        "heavy = [m for m in ('torch', 'transformers', 'diffusers', 'streamlit', 'sentence_transformers') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
