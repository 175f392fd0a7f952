"""The Compare page: 2-4 variants of the session's caption side by side, mastered with the
Studio's loudness and fades. "Keep this one" brings back the variant's plan and takes only:
the Studio's length, loudness, fades and download format stay as they are."""

from __future__ import annotations

import streamlit as st

from studio.errors import CancelledError, StudioError
from studio.ui import widgets
from studio.ui.compare import AS_PLANNED, MAX_VARIANTS, MIN_VARIANTS, Variant, VariantConfig, matched_previews, render_variant, take_scores
from studio.ui.scores import show_scores
from studio.ui.guard import guarded, page, show_error
from studio.ui.navigation import page_path
from studio.ui.plan_table import plan_rows
from studio.ui.settings import availability
from studio.ui.state import flash, library, session, show_flashes

K = "compare."
RESULTS = K + "results"
CANCELLED = K + "cancelled"
LENGTHS = {"15 s": 15.0, "30 s": 30.0, "1 min": 60.0, "2 min": 120.0, "5 min": 300.0}


def _configs(base_seed: int) -> list[VariantConfig]:
    from studio.generation import BACKENDS
    from studio.planning.styles import style_names

    styles = style_names()
    planners = [n for n, _, _ in availability("planner")]
    backends = [AS_PLANNED, *BACKENDS.names()]
    top = st.columns([2, 2, 3])
    count = top[0].radio("Variants", list(range(MIN_VARIANTS, MAX_VARIANTS + 1)), horizontal=True, key=K + "count")
    length = top[1].selectbox("Length", list(LENGTHS), index=1, key=K + "length", help="short lengths keep comparisons quick")
    default_style = st.session_state.get("studio.style", "meditation")
    configs = []
    for i, col in enumerate(st.columns(count)):
        with col:
            st.markdown(f"**Variant {chr(65 + i)}**")
            style = st.selectbox("Style", styles, index=styles.index(default_style) if default_style in styles else 0, key=f"{K}style.{i}")
            seed = int(st.number_input("Seed", 0, 2**32 - 1, value=base_seed + i, key=f"{K}seed.{i}"))
            planner = st.selectbox("Planner", planners, key=f"{K}planner.{i}")
            backend = st.selectbox("Backend", backends, key=f"{K}backend.{i}", help="one backend for every layer, or the plan's choice")
            configs.append(VariantConfig(style=style, seed=seed, planner=planner, backend=None if backend == AS_PLANNED else backend, duration_s=LENGTHS[length]))
    return configs


def _render_all(configs: list[VariantConfig]) -> None:
    import shutil

    from studio.ui.page_studio import studio_master

    sess = session()
    master = studio_master()
    folder = sess.work_dir / "compare"
    shutil.rmtree(folder, ignore_errors=True)  # the previous comparison's files go with it
    st.button("Cancel", key=K + "cancel", icon=":material/cancel:", help="Stop; the previous comparison is kept",
              on_click=lambda: st.session_state.__setitem__(CANCELLED, True))
    variants: list[Variant] = []
    for i, cfg in enumerate(configs):
        st.caption(f"Variant {chr(65 + i)}: {cfg.label}")
        rep = widgets.StreamlitReporter(f"Variant {chr(65 + i)}")
        try:
            variants.append(render_variant(sess.caption, cfg, captioner=sess.pipeline.captioner, master=master, reporter=rep,
                                           folder=folder / chr(65 + i)))
        except CancelledError as exc:
            st.warning(str(exc))
            return
        except StudioError as exc:
            show_error(exc)
            return
        finally:
            rep.clear()
    st.session_state[RESULTS] = variants
    st.rerun()


def _keep(variant: Variant) -> None:
    """The variant's plan and takes become the Studio's, arranged over the Studio's length
    and mastered with its loudness; the Studio's settings other than style, seed and planner
    (the plan's identity) are left alone."""
    from studio.ui.page_studio import studio_master, sync_settings

    sess = session()
    rep = widgets.StreamlitReporter("Bringing the variant to the Studio", layer_bar=False)
    sess.begin_render()
    try:
        length = sess.soundscape.plan.duration_s if sess.soundscape is not None else (sess.plan.duration_s if sess.plan else None)
        plan = variant.plan if length is not None else variant.plan.model_copy(update={"master": variant.plan.master.model_copy(update=studio_master())})
        sess.keep_variant(plan, variant.soundscape, rep)
    except CancelledError as exc:
        st.warning(str(exc))
        return
    except StudioError as exc:
        show_error(exc)
        return
    finally:
        rep.clear()
        sess.end_render()
    sync_settings(sess, sess.soundscape.plan, length_and_loudness=length is None)
    try:
        sess.save_to_library(library(), title=f"{sess.title} · {variant.config.label}", background=True)
        flash(f"Kept variant {variant.config.label}: its layers and takes are now the Studio's (length and loudness unchanged) and saved to the library.")
    except StudioError as exc:
        flash(f"Kept variant {variant.config.label}; not saved to the library: {exc}", "warning")
    st.switch_page(page_path("studio"))


def _show(variants: list[Variant]) -> None:
    previews, gains = matched_previews(variants)
    ref = min((v.integrated_lufs for v in variants if v.integrated_lufs is not None), default=None)
    if ref is not None:
        st.caption(f"Players are matched to {ref:.1f} LUFS (the quietest variant), so loudness does not sway the choice.")
    for i, (col, v) in enumerate(zip(st.columns(len(variants)), variants)):
        with col:
            st.markdown(f"#### {chr(65 + i)} · {v.config.label}")
            st.audio(widgets.absolute(_offer(previews[i])), format="audio/flac")
            st.caption(f"mastered {v.integrated_lufs:.1f} LUFS · played at {gains[i]:+.1f} dB" if v.integrated_lufs is not None else "loudness not measured")
            st.image(widgets.spectrogram_png(v.samples(), v.soundscape.sample_rate), width="stretch")
            rows = [{k: r[k] for k in ("name", "role", "prompt", "backend", "gain_db")} for r in plan_rows(v.plan)]
            st.dataframe(rows, hide_index=True, width="stretch")
            scores = take_scores(v)
            if scores:
                st.markdown("CLAP take scores")
                st.dataframe(scores, hide_index=True, width="stretch")
            else:
                st.caption("No CLAP take scores (the backends used do not score takes).")
            show_scores(v.soundscape, image=getattr(session().image, "image", None), key=f"{K}score.{i}")
            widgets.show_notes(v.notes)
            widgets.show_credits(v.soundscape)
            with guarded():
                _variant_download(v, chr(65 + i))
            if st.button("Keep this one", key=f"{K}keep.{i}", type="primary", icon=":material/check:", width="stretch"):
                _keep(v)


def _offer(path) -> str:
    """One URL per file for the comparison's lifetime (offered again only when new)."""
    from studio.ui import files

    offers = st.session_state.setdefault(K + "offers", {})
    if str(path) not in offers:
        offers[str(path)] = files.offer(path)
    return offers[str(path)]


def _variant_download(v: Variant, letter: str) -> None:
    """The variant's mix in the Studio's download format (as mastered, not loudness-matched)."""
    from studio.export import export_mix_bytes
    from studio.ui import files

    fmt = st.session_state.get("studio.mix_format", "wav")
    path = v.mix_path.with_name(f"variant.{fmt}")
    if not path.exists():
        if not st.button(f"Prepare {fmt.upper()}", key=f"{K}prepare.{letter}", icon=":material/download:", width="stretch"):
            return
        path.write_bytes(export_mix_bytes(v.soundscape, fmt=fmt))  # variants are minutes long: fine in memory once
    name = f"{session().title}-{letter}-{v.config.style}-seed{v.config.seed}.{fmt}"
    widgets.download_links({"mix": (files.download_url(_offer(path)), name)}, fmt)


@page
def render() -> None:
    st.title("Compare")
    show_flashes()
    sess = session()
    if sess.caption is None:
        st.info("Start in the Studio: add an image or type a caption, then come back here to compare variants.")
        st.page_link(page_path("studio"), label="Go to the Studio", icon=":material/graphic_eq:")
        return
    st.caption(f"Caption: {sess.caption.text}")
    from studio.ui.page_studio import studio_master

    master = studio_master()
    st.caption(f"Mastered like the Studio: {master['target_lufs']:.1f} LUFS, ceiling {master['ceiling_dbtp']:.1f} dBTP, "
               f"fades {master['fade_in_s']:g} s / {master['fade_out_s']:g} s. Keeping a variant keeps the Studio's length and loudness.")
    if st.session_state.pop(CANCELLED, False):
        st.warning("Rendering the variants was cancelled; the previous comparison (if any) is unchanged.")
    configs = _configs(int(st.session_state.get("studio.seed", 7)))
    if st.button("Render variants", type="primary", icon=":material/play_arrow:", key=K + "render"):
        _render_all(configs)
    variants = st.session_state.get(RESULTS)
    if variants:
        st.divider()
        _show(variants)
