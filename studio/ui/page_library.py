"""The Library page: every saved render with its thumbnail, title, caption, style, length, date
and size on disk; rename it, open it in the Studio, re-render it from its manifest, or delete
it. The total size is shown with a clean-up that keeps only the newest entries."""

from __future__ import annotations

import json

import streamlit as st

from studio.errors import CancelledError, PlanError, StudioError
from studio.library import LibraryEntry, human_size
from studio.manifest import plan_from_manifest
from studio.types import ScenePlan
from studio.ui import widgets
from studio.ui.engine import ImageInput, StudioSession
from studio.ui.guard import guarded, page, show_error
from studio.ui.navigation import page_path
from studio.ui.state import flash, library, session, show_flashes

K = "library."
PAGE_SIZE = 20
CANCELLED = K + "cancelled"


def _render_plan(plan, label: str) -> StudioSession | None:
    """Render ``plan`` exactly (progress + cancel) in a fresh session object; None if stopped."""
    sess = session()
    import shutil

    folder = sess.work_dir / "library-render"  # its own versions, apart from the Studio's
    shutil.rmtree(folder, ignore_errors=True)
    work = StudioSession(pipeline=sess.pipeline, work_dir=folder)
    st.button("Cancel", key=K + "cancel", icon=":material/cancel:", on_click=lambda: st.session_state.__setitem__(CANCELLED, True))
    rep = widgets.StreamlitReporter(label)
    try:
        work.caption = plan.caption
        work.generate(plan, rep)
    except CancelledError as exc:
        st.warning(str(exc))
        return None
    except StudioError as exc:
        show_error(exc)
        return None
    finally:
        rep.clear()
    return work


def _open(entry: LibraryEntry) -> None:
    from studio.ui.page_studio import sync_settings

    plan = entry.plan()
    work = _render_plan(plan, "Re-rendering from the manifest")
    if work is None:
        return
    sess = session()
    sess.adopt(work.soundscape.plan, list(work.sources.values()), work.soundscape)
    data = entry.thumbnail()
    if data is not None:
        import io

        from PIL import Image

        image = Image.open(io.BytesIO(data)).convert("RGB")
        sess.image = ImageInput(image=image, data=data, filename=f"{entry.title} (thumbnail)", info=dict(entry.manifest().get("image") or {}))
    else:
        sess.image = None  # never show an earlier, unrelated image beside this entry's caption
    sess.mark_saved()  # it is in the library already
    sync_settings(sess, sess.soundscape.plan)
    flash(f"Opened “{entry.title}” from the library (re-rendered exactly from its manifest).")
    st.switch_page(page_path("studio"))


def _rerender(plan: ScenePlan, title: str) -> None:
    work = _render_plan(plan, "Re-rendering")
    if work is None:
        return
    entry = work.save_to_library(library(), title=title)
    flash(f"Re-rendered into a new entry “{entry.title}”.")
    st.rerun()


def _escape(text: str) -> str:
    """Markdown-safe text (titles come from captions and file names)."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!|<>~$" else c for c in text)


def _entry_card(entry: LibraryEntry) -> None:
    """One entry. A damaged entry (manifest gone or unreadable) is still listed, says what is
    wrong and can be deleted; its Open and Re-render are disabled. Each card is guarded on its
    own, so one bad entry never hides the others."""
    with st.container(border=True):
        thumb, body, actions = st.columns([1, 4, 2])
        with guarded():
            problem = entry.problem()  # reads the manifest; the entry keeps it for this run
            thumbnail = entry.thumbnail()
            if thumbnail is not None:
                thumb.image(thumbnail, width="stretch")
            else:
                thumb.markdown(":material/image_not_supported:")
            body.markdown(f"**{_escape(entry.title)}**")
            if entry.caption and entry.caption != entry.title:
                body.caption(entry.caption)
            lufs = entry.extra.get("integrated_lufs")
            loud = f" · {lufs:.1f} LUFS" if isinstance(lufs, (int, float)) else ""
            body.caption(f"{entry.style} · {entry.length_label} · {entry.created_at:%Y-%m-%d %H:%M} UTC · seed {entry.seed} · {entry.planner}{loud} · {human_size(entry.size_bytes())}")
            if problem:
                body.warning(problem, icon=":material/warning:")
            elif st.session_state.get(K + "playing") == entry.id:
                mix_problem = entry.mix_problem()
                if mix_problem:
                    body.warning(mix_problem, icon=":material/warning:")
                else:
                    body.audio(str(entry.mix_path), format=f"audio/{entry.mix_path.suffix.lstrip('.')}")
            elif entry.mix_path is not None and body.button("Listen", key=f"{K}play.{entry.id}", icon=":material/play_arrow:"):
                st.session_state[K + "playing"] = entry.id
                st.rerun()
            if actions.button("Open in Studio", key=f"{K}open.{entry.id}", icon=":material/open_in_new:", width="stretch", disabled=bool(problem)):
                _open(entry)
            if actions.button("Re-render", key=f"{K}rerender.{entry.id}", icon=":material/replay:", width="stretch", disabled=bool(problem), help="render the manifest again into a new entry"):
                _rerender(entry.plan(), f"{entry.title} (re-render)")
            if not problem:
                actions.download_button("Manifest", data=entry.manifest_bytes(), file_name=f"{entry.id}-manifest.json", mime="application/json", key=f"{K}dl.{entry.id}", icon=":material/description:", on_click="ignore", width="stretch")
        with actions.popover("Rename", icon=":material/edit:", width="stretch"):
            new_title = st.text_input("Title", value=entry.title, key=f"{K}title.{entry.id}", max_chars=120)
            if st.button("Save title", key=f"{K}rename.{entry.id}", type="primary"):
                with guarded():
                    library().rename(entry.id, new_title)
                    flash(f"Renamed to “{' '.join(new_title.split())}”.", "info")
                    st.rerun()
        with actions.popover("Delete", icon=":material/delete:", width="stretch"):
            st.write("Delete this render and its files?")
            if st.button("Delete for good", key=f"{K}delete.{entry.id}", type="primary"):
                with guarded():
                    library().delete(entry.id)
                    if st.session_state.get(K + "playing") == entry.id:
                        st.session_state.pop(K + "playing")
                    flash(f"Deleted “{entry.title}”.", "info")
                    st.rerun()


def _totals(lib, entries: list[LibraryEntry]) -> None:
    """The library's size on disk and a clean-up keeping the newest entries."""
    total = sum(e.size_bytes() for e in entries)
    info, clean = st.columns([3, 2])
    info.markdown(f"**{len(entries)} {'entry' if len(entries) == 1 else 'entries'} · {human_size(total)} on disk**")
    with clean.popover("Clean up", icon=":material/cleaning_services:", width="stretch"):
        keep = int(st.number_input("Keep the newest", min_value=0, max_value=max(len(entries), 1), value=min(10, len(entries)), step=1, key=K + "keep_newest"))
        drop = entries[keep:]
        st.caption(f"Deletes {len(drop)} older entries ({human_size(sum(e.size_bytes() for e in drop))}).")
        if st.button("Delete older entries", key=K + "clean_up", type="primary", disabled=not drop):
            with guarded():
                gone = lib.clean_up(keep)
                flash(f"Deleted {len(gone)} older entries.", "info")
                st.rerun()


@page
def render() -> None:
    st.title("Library")
    show_flashes()
    lib = library()
    if st.session_state.pop(CANCELLED, False):
        st.warning("Re-rendering was cancelled; nothing was changed.")
    st.caption(f"Every render is saved here · data directory `{lib.root}` (set STUDIO_DATA_DIR to move it)")
    search_col, upload_col = st.columns([2, 3])
    search = search_col.text_input("Search", key=K + "search", placeholder="caption, title or style")
    manifest_file = upload_col.file_uploader("Re-render a manifest.json", type=["json"], key=K + "manifest")
    if manifest_file is not None and upload_col.button("Re-render this manifest", key=K + "render_upload"):
        with guarded():
            try:
                data = json.loads(manifest_file.getvalue().decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise PlanError(f"{manifest_file.name!r} is not valid JSON ({exc}); upload a manifest.json written by the studio") from None
            _rerender(plan_from_manifest(data), f"{manifest_file.name} (re-render)")
    entries = lib.entries(search=search)
    if not entries:
        st.info("Nothing here yet: every generation in the Studio is saved to the library." if not search else "No entry matches.")
        return
    if not search:
        _totals(lib, entries)
    shown = int(st.session_state.get(K + "shown", PAGE_SIZE))
    for entry in entries[:shown]:
        _entry_card(entry)
    if len(entries) > shown and st.button(f"Show more ({len(entries) - shown} left)", key=K + "more"):
        st.session_state[K + "shown"] = shown + PAGE_SIZE
        st.rerun()
