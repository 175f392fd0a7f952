"""The Studio page: image -> caption -> plan table -> generate -> listen, re-mix, download.

Flow per run (Streamlit reruns the script on every interaction):
1. settings in the sidebar; input (upload, gallery, surprise me) loads and captions an image;
2. the caption is shown and editable; a change of caption/style/length/seed/planner re-plans;
3. the plan table's edits are applied to the plan; after a generation, mix-only edits (gain,
   pan, mute, solo, loudness preset) re-mix at once, others wait for "Apply changes";
4. Generate / New take / Apply run with two progress bars and a Cancel button;
5. players, plots and downloads for the current result.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any, Optional

import streamlit as st

from studio.errors import CancelledError, ImageError, StudioError
from studio.types import ScenePlan
from studio.ui import gallery, recording_bed, widgets
from studio.ui.engine import DOWNLOAD_FORMATS, SAVING, STEM_FORMATS, ImageInput, StudioSession, change_kind
from studio.ui.guard import guarded, page, show_error
from studio.ui.plan_table import apply_rows, frame_records, plan_frame
from studio.ui.scores import show_scores
from studio.ui.settings import CUSTOM, LENGTH_CHOICES, STYLE_DEFAULT, availability, length_seconds, loudness_presets, master_overrides
from studio.ui.state import flash, library, session, show_flashes

log = logging.getLogger("studio.ui")

K = "studio."  # widget key prefix
SETTINGS_KEYS = [K + k for k in ("style", "length", "custom_s", "preset", "custom_lufs", "custom_ceiling", "seed", "captioner", "planner",
                                  "mix_format", "stem_format", "loop", "fade_in_s", "fade_out_s", "result_tab")]
# The settings an undo puts back (the widgets' values from before the change).
UNDO_KEYS = [K + k for k in ("style", "length", "custom_s", "preset", "custom_lufs", "custom_ceiling", "seed", "planner", "fade_in_s", "fade_out_s")]
UNDO = K + "undo_requested"
CANCELLED = K + "cancelled"
RETRY = K + "retry"  # "Try again" was pressed
SOURCES = ("upload", "example")
SAVE_POLL_S = 1.0  # while a background library save runs, its button is redrawn this often
SAVE_FRAGMENT = K + "save_fragment"  # the fragment holding the Save button
CAPTION_SOURCES = {
    "analysis": "the offline image analyser",
    "blip2": "BLIP-2",
    "blip": "BLIP",
    "user": "you (typed)",
    "recording": "the sound tags of your recording",
}


DEFAULTS: dict[str, Any] = {
    K + "style": "meditation",
    K + "length": "10 min",
    K + "custom_s": 30.0,
    K + "custom_lufs": -18.0,
    K + "custom_ceiling": -1.0,
    K + "seed": 7,
    K + "fade_in_s": 3.0,
    K + "fade_out_s": 5.0,
    K + "mix_format": "wav",
    K + "stem_format": "flac",
    K + "loop": False,
}


def _keep_settings() -> None:
    """Defaults go into session state once, and widgets take their value from there (never
    both). Streamlit drops a widget's value while its page is not shown, so the Studio's
    settings are also kept in the session (``sess.ui["widgets"]``, written at the end of every
    Studio run) and put back when the user returns from another page."""
    from studio.ui.guard import PREVIOUS_PAGE

    kept = session().ui.get("widgets", {})
    back = st.session_state.get(PREVIOUS_PAGE) not in (None, __name__)
    for key in SETTINGS_KEYS:
        if key in kept and (back or key not in st.session_state):
            st.session_state[key] = kept[key]
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)
    for key in SETTINGS_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def _request_cancel() -> None:
    st.session_state[CANCELLED] = True


# --------------------------------------------------------------------------- sidebar


def studio_master() -> dict[str, Any]:
    """The Studio's loudness and fade settings as MasterSpec fields (Compare renders with them).
    Streamlit forgets a page's widget values while another page is shown, so the Studio keeps
    its last choice in the session (``sess.ui["master"]``)."""
    kept = session().ui.get("master")
    if kept is not None:
        return dict(kept)
    ss = st.session_state
    style = ss.get(K + "style", DEFAULTS[K + "style"])
    custom = {"custom_lufs": float(ss.get(K + "custom_lufs", -18.0)), "custom_ceiling_dbtp": float(ss.get(K + "custom_ceiling", -1.0))}
    fades = {k: float(ss.get(K + k, DEFAULTS[K + k])) for k in ("fade_in_s", "fade_out_s")}
    return {**master_overrides(ss.get(K + "preset", STYLE_DEFAULT), style, **custom), **fades}


def _sidebar(sess: StudioSession) -> dict[str, Any]:
    from studio.planning.styles import style_names

    with st.sidebar:
        st.header("Settings")
        styles = style_names()
        if st.session_state.get(K + "style") not in styles:
            st.session_state[K + "style"] = styles[0]
        style = st.selectbox("Style", styles, key=K + "style")
        length = st.selectbox("Length", list(LENGTH_CHOICES), key=K + "length", help="5 to 60 minutes, or a custom length in seconds")
        custom_s = None
        if length == CUSTOM:
            custom_s = st.number_input("Custom length (seconds)", min_value=5.0, max_value=3600.0, step=5.0, key=K + "custom_s")
        presets = loudness_presets()
        preset = st.selectbox("Loudness", presets, key=K + "preset", help="style default, or a delivery target (integrated LUFS / true-peak ceiling)")
        custom = {}
        if preset == CUSTOM:
            custom["custom_lufs"] = st.number_input("Target LUFS", min_value=-40.0, max_value=-5.0, step=0.5, key=K + "custom_lufs")
            custom["custom_ceiling_dbtp"] = st.number_input("True-peak ceiling (dBTP)", min_value=-12.0, max_value=0.0, step=0.5, key=K + "custom_ceiling")
        seed = int(st.number_input("Seed", min_value=0, max_value=2**32 - 1, step=1, key=K + "seed", help="the same seed and settings give the same soundscape"))
        fade_cols = st.columns(2)
        fades = {
            "fade_in_s": fade_cols[0].number_input("Fade in (s)", min_value=0.0, max_value=600.0, step=1.0, key=K + "fade_in_s"),
            "fade_out_s": fade_cols[1].number_input("Fade out (s)", min_value=0.0, max_value=600.0, step=1.0, key=K + "fade_out_s"),
        }
        with st.expander("Models"):
            captioners = [n for n, _, _ in availability("captioner")]
            planners = [n for n, _, _ in availability("planner")]
            captioner = st.selectbox("Captioner", captioners, key=K + "captioner", help="analysis needs no model; others fall back to it when missing")
            planner = st.selectbox("Planner", planners, key=K + "planner", help="rules needs no model; llm falls back to it when missing")
    sess.pipeline.captioner = captioner
    sess.pipeline.planner = planner
    duration_s = length_seconds(length, custom_s)
    sess.ui["master"] = {**master_overrides(preset, style, **custom), **fades}
    return {
        "style": style,
        "duration_s": duration_s,
        "seed": seed,
        "master": {**master_overrides(preset, style, **custom), **fades},
        "captioner": captioner,
        "planner": planner,
    }


# --------------------------------------------------------------------------- input


def _request_retry() -> None:
    st.session_state[RETRY] = True


def _captioned(sess: StudioSession) -> None:
    """A new caption is in place: the caption box restarts from it, and it is in line with
    the captioner setting (see :func:`_recaption_if_needed`)."""
    sess.ui["caption_serial"] = sess.ui.get("caption_serial", 0) + 1
    sess.ui["captioned_by"] = sess.pipeline.captioner


def _load(sess: StudioSession, source: str, token: str, data: bytes, filename: str) -> None:
    """Load and caption an image once per new upload/choice. ``source`` is ``upload`` or
    ``example``: each remembers its own last token, so a rerun never swaps back to an older
    input."""
    if sess.ui.get(f"{source}_token") == token:
        return
    sess.ui[f"{source}_token"] = token  # even when it fails: a retry goes through ``pending``
    sess.ui.pop(f"{source}_error", None)
    sess.ui.pop("pending", None)  # only the newest input can wait for a retry
    try:
        loaded = sess.open_image(data, filename)
    except StudioError as exc:
        # Kept, and shown on every run while the bad file sits in the uploader; the image,
        # caption, plan and result from before stay as they were.
        sess.ui[f"{source}_error"] = str(exc)
        return
    _use(sess, source, loaded)


def _use(sess: StudioSession, source: str, loaded: ImageInput) -> None:
    """Caption ``loaded`` and make it the session's image (all or nothing, see
    ``StudioSession.use_image``).

    A captioner that fails on a good file (BackendError from BLIP inference, a model missing
    with fallback off, anything unexpected) is not the file's fault: the decoded image waits
    in ``sess.ui["pending"]`` and is captioned again when "Try again" is pressed or another
    captioner is chosen (:func:`_recaption_if_needed`). It is never retried by itself on each
    rerun, so a slow failing model does not run again at every click."""
    try:
        sess.use_image(loaded)
    except ImageError as exc:  # the captioner refused the pixels themselves: the file's fault
        sess.ui[f"{source}_error"] = str(exc)
        return
    except Exception as exc:  # noqa: BLE001 - shown with the input, never as a traceback
        if isinstance(exc, StudioError):
            why = str(exc)
        else:
            log.error("captioning %s failed", loaded.filename, exc_info=exc)
            why = f"something went wrong on our side ({type(exc).__name__}; it has been logged)"
        sess.ui["pending"] = {
            "source": source,
            "image": loaded,
            "error": f"{loaded.filename!r} was not loaded because captioning it failed: {why}; "
            "press Try again, or choose another captioner under Models in the sidebar",
        }
        sess.ui["captioned_by"] = sess.pipeline.captioner  # tried with it: wait for a change
        return
    sess.ui.pop("pending", None)  # a new image is in use
    sess.project.title = ""  # the new image's name, until the user types a title
    _captioned(sess)


def _recaption_if_needed(sess: StudioSession) -> None:
    """The one place a change of captioner is noticed (before the inputs are shown). A
    waiting input is captioned again when "Try again" was pressed or the captioner changed;
    otherwise a changed captioner captions the image in use again."""
    asked = st.session_state.pop(RETRY, False)
    changed = sess.ui.get("captioned_by") != sess.pipeline.captioner
    pending = sess.ui.get("pending")
    if pending is not None and (asked or changed):
        del sess.ui["pending"]
        _use(sess, pending["source"], pending["image"])
    elif changed and sess.image is not None:
        with guarded():
            sess.caption = sess.pipeline.caption(sess.image.image)
        _captioned(sess)


def _input(sess: StudioSession) -> None:
    examples = gallery.example_images()
    left, right = st.columns([3, 2])
    with left:
        upload = st.file_uploader("Upload an image", key=K + "upload", help="JPEG, PNG, WEBP, GIF, BMP or TIFF")
    with right:
        st.write("")
        if examples:
            pick_col, surprise_col = st.columns([3, 2])
            names = [gallery.label(p) for p in examples]
            choice = pick_col.selectbox("Example gallery", names, index=None, placeholder="Pick an example", key=K + "example", label_visibility="collapsed")
            if surprise_col.button("Surprise me", icon=":material/casino:", key=K + "surprise", width="stretch"):
                path = random.choice(examples)
                st.session_state[K + "chosen_example"] = str(path)
            elif choice is not None:
                path = examples[names.index(choice)]
                if sess.ui.get("example_choice") != choice:
                    sess.ui["example_choice"] = choice
                    st.session_state[K + "chosen_example"] = str(path)
        else:
            st.caption("No example images yet (examples/images/ is empty).")

    with guarded():
        if upload is None:  # removed from the uploader: its message (and any retry) go with it
            sess.ui.pop("upload_error", None)
            if sess.ui.get("pending", {}).get("source") == "upload":
                del sess.ui["pending"]
        _recaption_if_needed(sess)
        if upload is not None:
            _load(sess, "upload", upload.file_id, upload.getvalue(), upload.name)
        chosen = st.session_state.pop(K + "chosen_example", None)
        if chosen:
            path = Path(chosen)
            # A fresh token: choosing an example (or surprise) always loads it, even the same one.
            _load(sess, "example", f"{path.name}:{random.random()}", path.read_bytes(), path.name)
    kept = f" (still working with {sess.image.filename})" if sess.image is not None else ""
    for source in SOURCES:
        error = sess.ui.get(f"{source}_error")
        if error:
            st.error(error + kept, icon=":material/error:")
    pending = sess.ui.get("pending")
    if pending is not None:
        st.error(pending["error"] + kept, icon=":material/error:")
        st.button("Try again", key=f"{K}retry.{pending['source']}", icon=":material/refresh:", on_click=_request_retry)
    sess.ui.pop("example_error", None)


def _title(sess: StudioSession) -> None:
    """The project's title: downloads are named ``<title>-<length>-<style>.*`` and the library
    lists it. Until typed, it follows the image's name or the caption."""
    typed = st.text_input("Title", value=sess.title, key=f"{K}title.{sess.ui.get('caption_serial', 0)}", max_chars=120,
                          help="names the downloads (title-length-style) and the library entry")
    if typed.strip() and typed.strip() != sess.title:
        sess.title = typed


def _caption(sess: StudioSession) -> None:
    cols = st.columns([1, 3]) if sess.image is not None else [None, st.container()]
    if sess.image is not None:
        cols[0].image(sess.image.data, caption=sess.image.filename, width="stretch")
    with cols[1]:
        current = sess.caption.text if sess.caption else ""
        text = st.text_area(
            "Caption",
            value=current,
            key=f"{K}caption.{sess.ui.get('caption_serial', 0)}",
            height=90,
            placeholder="Upload an image, pick an example, or describe the scene here",
            help="Edit freely: the plan follows the words.",
        )
        if text.strip() and (sess.caption is None or text.strip() != sess.caption.text):
            with guarded():
                sess.set_caption_text(text)
        if sess.caption is not None:
            who = CAPTION_SOURCES.get(sess.caption.source, sess.caption.source)
            model = f" · model `{sess.caption.model}`" if sess.caption.model else ""
            st.caption(f"Caption by {who}{model}")
            if sess.caption.cues:
                from studio.vision.analysis import filename_words

                named = frozenset(filename_words(sess.image.filename)) if sess.image is not None else frozenset()
                st.caption("Cues: " + ", ".join(widgets.cue_label(c, named) for c in sess.caption.cues[:12]))
            if sess.caption.tags:
                st.caption("Sound tags: " + ", ".join(f"{t} ({s:.2f})" for t, s in sess.caption.tags[:8]))


# --------------------------------------------------------------------------- plan


def _ensure_plan(sess: StudioSession, settings: dict[str, Any]) -> None:
    """Re-plan when the caption, style, seed or planner changed. A change of length alone keeps
    the plan and its takes (a new take of a layer included) and arranges them again over the
    new length (at once when there is a result)."""
    if sess.caption is None:
        return
    key = (sess.caption.text, sess.caption.source, settings["style"], settings["duration_s"], settings["seed"], settings["planner"])
    old = sess.ui.get("plan_key")
    if old == key and sess.plan is not None:
        return
    if sess.plan is not None and old is not None and old[:3] + old[4:] == key[:3] + key[4:]:
        duration_s = settings["duration_s"]
        sess.ui["plan_key"] = key
        if sess.soundscape is None:
            sess.set_length(duration_s)
            return
        _run(f"Arranging the takes over {duration_s / 60:g} min", lambda rep: (sess.set_length(duration_s, rep), f"Length changed to {duration_s / 60:g} min; every take kept")[1])
        return
    sess.make_plan(style=settings["style"], duration_s=settings["duration_s"], seed=settings["seed"], master=settings["master"])
    sess.ui["plan_key"] = key


def _plan_editor(sess: StudioSession, settings: dict[str, Any]) -> Optional[ScenePlan]:
    """The table; returns the plan with the table's edits and the loudness choice applied."""
    from studio.generation import BACKENDS

    assert sess.plan is not None
    st.subheader("Plan")
    backends = BACKENDS.names()
    for layer in sess.plan.layers:
        if layer.backend not in backends:
            backends.append(layer.backend)
    edited = st.data_editor(
        plan_frame(sess.plan),
        key=f"{K}plan_editor.{sess.plan_serial}",
        hide_index=True,
        num_rows="fixed",
        width="stretch",
        disabled=[c for c in ("name", "seed")],
        column_config={
            "name": st.column_config.TextColumn("layer", width="small"),
            "role": st.column_config.SelectboxColumn("role", options=["background", "foreground"], required=True),
            "prompt": st.column_config.TextColumn("prompt", width="medium", max_chars=1000, required=True),
            "backend": st.column_config.SelectboxColumn("backend", options=backends, required=True),
            "gain_db": st.column_config.NumberColumn("gain dB", min_value=-60.0, max_value=12.0, step=0.5, format="%.1f"),
            "pan": st.column_config.NumberColumn("pan", min_value=-1.0, max_value=1.0, step=0.05, format="%.2f", help="-1 left .. 1 right"),
            "density": st.column_config.NumberColumn("density", width="small", min_value=0.0, max_value=60.0, step=0.05, help="foreground: events per minute; background: texture density 0..1"),
            "mute": st.column_config.CheckboxColumn("mute"),
            "solo": st.column_config.CheckboxColumn("solo"),
            "seed": st.column_config.NumberColumn("seed", format="%d"),
        },
    )
    plan = sess.plan
    with guarded():
        plan = apply_rows(sess.plan, frame_records(edited))
        master = {**plan.master.model_dump(), **settings["master"]}
        plan = plan.model_copy(update={"master": type(plan.master).model_validate(master)})
        return plan
    return None


# --------------------------------------------------------------------------- running


def _run(label: str, work, *, save: bool = False) -> Optional[StudioError]:
    """Run ``work(reporter)`` with progress bars and a Cancel button; rerun on success.
    Returns the StudioError it showed, if any (None when cancelled).

    While it runs, every download link of the previous result is withdrawn (the server answers
    410) and disabled buttons say a newer render is under way, so a click never gets a stale
    file."""
    sess = session()
    slot = st.container()
    with slot:
        st.button("Cancel", key=K + "cancel", icon=":material/cancel:", on_click=_request_cancel, help="Stop; the previous result is kept")
        reporter = widgets.StreamlitReporter(label)
        if sess.soundscape is not None:
            widgets.busy_downloads()
    sess.begin_render()
    try:
        result = work(reporter)
    except CancelledError as exc:
        reporter.clear()
        st.warning(str(exc))
        return None
    except StudioError as exc:
        reporter.clear()
        show_error(exc)
        return exc
    finally:
        sess.end_render()
    reporter.clear()
    if save:
        try:
            sess.save_to_library(library(), background=True)
        except StudioError as exc:
            flash(f"Not saved to the library: {exc}", "warning")
    if isinstance(result, str) and result:
        flash(result, "success")
    st.rerun()


def _request_undo() -> None:
    st.session_state[UNDO] = True


def _undo(sess: StudioSession) -> None:
    """Undo the last change, settings included (before any widget is drawn)."""
    if not st.session_state.pop(UNDO, False):
        return
    with guarded():
        what = sess.undo_label()
        with st.spinner(f"Undoing {what}…"):
            before = sess.undo()  # a parked result is mixed again from its takes on disk
        for key, value in before.settings.items():
            st.session_state[key] = value
        caption = sess.caption
        if caption is not None and before.settings:
            ss = st.session_state
            length = length_seconds(ss[K + "length"], ss.get(K + "custom_s"))
            sess.ui["plan_key"] = (caption.text, caption.source, ss[K + "style"], length, int(ss[K + "seed"]), ss.get(K + "planner", sess.pipeline.planner))
        _captioned(sess)
        flash(f"Undone: {what}.", "info")


def _replanned(old: ScenePlan, new: ScenePlan) -> bool:
    """A new plan from the settings (not a table edit): other length, style, seed or layers."""
    return (old.duration_s, old.style, old.seed, [l.name for l in old.layers]) != (
        new.duration_s, new.style, new.seed, [l.name for l in new.layers])


def _actions(sess: StudioSession, plan: Optional[ScenePlan]) -> None:
    if st.session_state.pop(CANCELLED, False):
        st.warning("Generation cancelled; the previous result (if any) is unchanged.")
    if plan is None:
        return
    cols = st.columns([2, 2, 2, 3])
    generate = cols[0].button("Generate", type="primary", icon=":material/play_arrow:", key=K + "generate", width="stretch")
    undo = sess.undo_label()
    cols[1].button("Undo", icon=":material/undo:", key=K + "undo", disabled=undo is None, width="stretch",
                   help=f"undo the last change ({undo})" if undo else "nothing to undo yet", on_click=_request_undo)
    names = [l.name for l in plan.layers]
    take_layer = cols[2].selectbox("Layer", names, key=K + "take_layer", label_visibility="collapsed")
    new_take = cols[3].button("New take of this layer", icon=":material/refresh:", key=K + "new_take", help="regenerate only this layer with a new seed; the others keep their audio")

    pending: tuple[str, list[str]] = ("none", [])
    if sess.soundscape is not None:
        pending = change_kind(sess.soundscape.plan, plan)
    if generate:
        _run("Generating", lambda rep: (sess.generate(plan, rep), f"Generated {plan.duration_s / 60:.1f} min · {len(plan.layers)} layers · saving a copy to the library")[1], save=True)
    elif new_take:
        def work(rep) -> str:
            seed = sess.regenerate_layer(plan, take_layer, reporter=rep)
            return f"New take of {take_layer} (seed {seed}); other layers unchanged"

        _run("New take", work)
    elif pending[0] in ("remix", "arrange"):
        # Live re-mix: gains, pans, mutes, solo and loudness apply without regeneration. A
        # re-mix that failed (every layer muted, say) is not tried again on each rerun: its
        # message stays until the table changes, and the last good result stays playable.
        key = plan.model_dump_json()
        failed = sess.ui.get("failed_remix")
        if failed is not None and failed[0] == key:
            show_error(failed[1])
        else:
            error = _run("Re-mixing", lambda rep: (sess.apply_plan(plan, rep), "Re-mixed (no regeneration)")[1])
            if error is not None:
                sess.ui["failed_remix"] = (key, error)
    elif pending[0] == "regenerate" and _replanned(sess.soundscape.plan, plan):
        st.info("The settings or caption changed since this result: Generate to hear the new plan.", icon=":material/info:")
    elif pending[0] == "regenerate":
        what = f"regenerate {', '.join(pending[1])}"
        c1, c2 = st.columns([4, 1])
        c1.info(f"Your edits need to {what}.")
        if c2.button("Apply changes", key=K + "apply", type="primary", width="stretch"):
            _run("Applying", lambda rep: (sess.apply_plan(plan, rep), f"Applied: {what}")[1])


# --------------------------------------------------------------------------- results


def _downloads(sess: StudioSession) -> None:
    """Formats, a seamless-loop option and "Prepare downloads" (an export to the session's
    folder with progress); then links that stream the files from disk, named
    ``<title>-<length>-<style>.*``."""
    st.subheader("Downloads")
    cols = st.columns([2, 2, 2, 3])
    fmt = cols[0].selectbox("Mix format", list(DOWNLOAD_FORMATS), key=K + "mix_format")
    stem_format = cols[1].selectbox("Stems", list(STEM_FORMATS), key=K + "stem_format", help="FLAC 24-bit (lossless, smaller) or WAV 32-bit float")
    loop = cols[2].checkbox("Seamless loop", key=K + "loop", help="also export a version that repeats without a gap")
    links = sess.download_links(fmt, stem_format, loop)
    if links is None:
        with cols[3]:
            if st.button(f"Prepare downloads ({fmt.upper()})", key=K + "prepare", icon=":material/download:", width="stretch",
                         help="export the mix, the stems zip and the manifest (progress is shown)"):
                _prepare(sess, fmt, stem_format, loop)
    else:
        widgets.download_links(links, fmt)
    # Generate saves automatically (in the background); a re-mixed or re-taken result is saved
    # when asked. A background save that failed says why and offers the button again.
    state, error = sess.save_state()
    with cols[3] if links is not None else st.container():
        # While the save runs, only this fragment is rerun every SAVE_POLL_S (cheap: it reads
        # save_state and draws one button); once it is "saved" or "failed" the fragment reruns
        # the page once, which shows the outcome and, drawing the fragment without
        # run_every, ends the polling (a full run clears the browser's fragment timers).
        poll = SAVE_POLL_S if state == SAVING else None
        st.fragment(_save_button, run_every=poll, key=SAVE_FRAGMENT)(sess, state)
    if error:
        st.warning(f"This result is not in the library: {error}", icon=":material/warning:")
    widgets.show_credits(sess.soundscape)


def _prepare(sess: StudioSession, fmt: str, stem_format: str, loop: bool) -> None:
    reporter = widgets.StreamlitReporter(f"Preparing {fmt.upper()} and the stems zip", layer_bar=False)
    try:
        sess.prepare_downloads(fmt, stem_format, loop, reporter)
    except CancelledError as exc:
        reporter.clear()
        st.warning(str(exc))
        return
    except StudioError as exc:
        reporter.clear()
        show_error(exc)
        return
    reporter.clear()
    st.rerun()


SAVE_LABELS = {"saving": "Saving…", "saved": "Saved", "failed": "Save to library", "unsaved": "Save to library"}


def _save_button(sess: StudioSession, drawn_as: str) -> None:
    """The Save button, drawn in a fragment. ``drawn_as`` is the save state the page was
    drawn with; when it has changed by a fragment rerun (the background save finished or
    failed), the whole page reruns to show it."""
    state, _ = sess.save_state()
    if state != drawn_as:
        st.rerun()
    if st.button(SAVE_LABELS[state], key=K + "save", icon=":material/bookmark_add:", disabled=state in ("saving", "saved"), width="stretch"):
        with guarded():
            entry = sess.save_to_library(library())
            flash(f"Saved “{entry.title}” to the library.")
            st.rerun()


def _results(sess: StudioSession) -> None:
    scape = sess.soundscape
    if scape is None:
        return
    st.divider()
    st.subheader("Listen")
    widgets.mix_player(sess)
    # Only the open tab is drawn (plots of a long track cost a second or two).
    tab_stems, tab_views, tab_models = st.tabs(["Stems", "Waveform & spectrogram", "Which models made what"], key=K + "result_tab", on_change="rerun")
    if tab_stems.open:
        with tab_stems:
            widgets.stem_players(sess)
    if tab_views.open:
        with tab_views:
            widgets.plots_for(sess)
    if tab_models.open:
        with tab_models:
            st.dataframe(sess.layer_facts(), hide_index=True, width="stretch")
            show_scores(scape, image=getattr(sess.image, "image", None), pipeline=sess.pipeline, key=K + "score")
    _downloads(sess)


@page
def render() -> None:
    _keep_settings()
    st.title("Studio")
    sess = session()
    _undo(sess)
    show_flashes()
    settings = _sidebar(sess)
    recording_bed.start_from_request(sess, settings)  # "use my recording as the bed" (Sound to Image)
    _input(sess)
    _caption(sess)
    if sess.caption is not None:
        _title(sess)
    with guarded():
        _ensure_plan(sess, settings)
    widgets.show_notes(sess.notes(), sess.layer_facts())
    plan = _plan_editor(sess, settings) if sess.plan is not None else None
    _actions(sess, plan)
    _results(sess)
    # What an undo of the next change puts back in the sidebar.
    sess.ui["settings"] = {k: st.session_state[k] for k in UNDO_KEYS if k in st.session_state}
    sess.ui["widgets"] = {k: st.session_state[k] for k in SETTINGS_KEYS if k in st.session_state}


def sync_settings(sess: StudioSession, plan: ScenePlan, *, length_and_loudness: bool = True) -> None:
    """Point the Studio's settings at ``plan`` (style, seed, planner, and with
    ``length_and_loudness`` also its length, loudness and fades) so opening a library entry does
    not re-plan it away. A kept Compare variant passes ``length_and_loudness=False``: the
    Studio's length, loudness, fades and format stay the user's."""
    st.session_state[K + "style"] = plan.style
    st.session_state[K + "seed"] = int(plan.seed)
    if length_and_loudness:
        choice = next((name for name, secs in LENGTH_CHOICES.items() if secs == plan.duration_s), CUSTOM)
        st.session_state[K + "length"] = choice
        if choice == CUSTOM:
            st.session_state[K + "custom_s"] = float(plan.duration_s)
        st.session_state[K + "preset"] = "custom"
        st.session_state[K + "custom_lufs"] = float(plan.master.target_lufs)
        st.session_state[K + "custom_ceiling"] = float(plan.master.ceiling_dbtp)
        st.session_state[K + "fade_in_s"] = float(plan.master.fade_in_s)
        st.session_state[K + "fade_out_s"] = float(plan.master.fade_out_s)
    planners = [n for n, _, _ in availability("planner")]
    planner = plan.planner if plan.planner in planners else sess.pipeline.planner
    st.session_state[K + "planner"] = planner
    # What the Studio puts back on arrival (see _keep_settings): only the keys set here (the
    # other Studio keys in session state may be stale while another page is shown).
    changed = ["style", "seed", "planner"] + (["length", "custom_s", "preset", "custom_lufs", "custom_ceiling", "fade_in_s", "fade_out_s"] if length_and_loudness else [])
    widgets_kept = sess.ui.setdefault("widgets", {})
    for key in (K + name for name in changed):
        if key in st.session_state:
            widgets_kept[key] = st.session_state[key]
    if plan.caption is not None:
        sess.caption = plan.caption
    _captioned(sess)
    caption = sess.caption
    sess.ui["plan_key"] = (caption.text, caption.source, plan.style, float(plan.duration_s), int(plan.seed), planner) if caption else None
