"""The Sound to Image page: a recording → its sound tags → an image prompt → an image.

Thin: the work is ``studio.reverse.pipeline.imagine``; this file reads widgets and shows the
result. "Use as the bed in the Studio" hands the recording and a caption to the Studio page
(``studio.reverse.handoff``).
"""

from __future__ import annotations

import io
from pathlib import Path

from studio.ui.guard import page

K = "s2i."  # widget key prefix


def _input_path(st) -> Path | None:
    from studio.sounds.recordings import RECORDINGS

    source = st.radio("Recording", ["Upload", "From the bundled pack"], horizontal=True, key=K + "source")
    if source == "Upload":
        up = st.file_uploader("WAV, FLAC, OGG or MP3 (1 s to 60 min)", type=["wav", "flac", "ogg", "mp3"], key=K + "upload")
        if up is None:
            return None
        from studio.ui.state import session

        # In the session's own scratch folder, so it goes when the session does (a Studio
        # plan may use it as its bed); written once per upload, not on every rerun.
        path = session().work_dir / "uploads" / up.file_id / Path(up.name).name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(up.getvalue())
        return path
    name = st.selectbox("Pack recording", [r.name for r in RECORDINGS], key=K + "pack")
    return next(r.path for r in RECORDINGS if r.name == name)


@page
def render() -> None:
    import streamlit as st

    from studio.errors import StudioError
    from studio.reverse import AUDIO_TAGGERS, IMAGE_MAKERS
    from studio.reverse.handoff import BED_KEY, bed_request
    from studio.reverse.pipeline import imagine
    from studio.reverse.prompt import DEFAULT_STYLE, STYLES
    from studio.ui.navigation import page_path

    st.title("Sound to Image")
    st.caption("Tag a recording, turn the tags into an image prompt and make cover art from it.")
    path = _input_path(st)
    cols = st.columns(3)
    style = cols[0].selectbox("Visual style", list(STYLES), index=list(STYLES).index(DEFAULT_STYLE), key=K + "style")
    tagger = cols[1].selectbox("Tagger", ["auto"] + AUDIO_TAGGERS.names(), key=K + "tagger",
                               help="auto: CLAP when its model is here, else the offline feature classifier")
    maker = cols[2].selectbox("Image", ["auto"] + IMAGE_MAKERS.names(), key=K + "maker",
                              help="auto: sd-turbo when it is here, else the offline sound painting")
    refine = st.checkbox("Refine the prompt with the planner's LLM (when it is on this machine)", key=K + "refine")
    if st.button("Imagine", type="primary", disabled=path is None, key=K + "go"):
        try:
            with st.spinner("Listening and painting..."):
                st.session_state[K + "result"] = (str(path), imagine(
                    path, style=style, tagger=None if tagger == "auto" else tagger,
                    image_maker=None if maker == "auto" else maker, refine=refine))
        except StudioError as exc:
            st.session_state.pop(K + "result", None)
            st.error(str(exc))
    stored = st.session_state.get(K + "result")
    if not stored:
        return
    rec_path, result = stored
    for note in result.notes:
        st.info(note)
    left, right = st.columns([1, 2])
    with left:
        st.subheader("Tags")
        st.dataframe([{"label": label, "score": score} for label, score in result.tags.tags], hide_index=True,
                     key=K + "tags_table")
        st.caption(f"tagger: {result.tags.tagger} ({result.tags.model})")
        st.subheader("Prompt")
        st.code(result.prompt.text, language=None)
        if result.prompt.refined:
            st.caption(result.prompt.refined)
        if st.button("Use as the bed in the Studio", key=K + "to_studio",
                     help="start a new soundscape in the Studio with this recording as its bed"):
            st.session_state[BED_KEY] = bed_request(rec_path, result.tags)
            st.switch_page(page_path("studio"))
    with right:
        st.image(result.image, caption=result.label or f"made by {result.image_maker} ({result.model})")
        buf = io.BytesIO()
        result.image.save(buf, format="PNG")
        st.download_button("Download image", buf.getvalue(), file_name=f"{Path(rec_path).stem}.png", mime="image/png",
                           key=K + "download")
