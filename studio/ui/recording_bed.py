"""The Studio side of "use my recording as the bed".

The Sound to Image page puts a :func:`studio.reverse.handoff.bed_request` into session state
under ``BED_KEY`` and switches to the Studio. :func:`start_from_request` (called by the Studio
page once its settings are read) takes that request exactly once and starts a new project:
the tags' caption, a plan from it with the user's recording as the bed
(:func:`studio.reverse.handoff.plan_from_recording`) for the Studio's style, length and seed,
and no image. The plan is the one the table shows; Generate renders it. As after a new image,
the previous result stays playable (and Undo brings the previous project back) until then.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from studio.ui.engine import StudioSession


def start_from_request(sess: StudioSession, settings: dict[str, Any]) -> bool:
    """True when a request was waiting and the new project is in place; a request that fails
    (the uploaded file gone, a planner error) is dropped with one error line."""
    from studio.errors import StudioError
    from studio.reverse.handoff import BED_KEY, plan_from_recording

    request = st.session_state.pop(BED_KEY, None)
    if not request:
        return False
    try:
        plan = plan_from_recording(sess.pipeline, request, style=settings["style"],
                                   duration_s=settings["duration_s"], seed=settings["seed"])
    except StudioError as exc:
        st.error(f"could not start a project from your recording: {exc}")
        return False
    if settings.get("master"):
        plan = plan.model_copy(update={"master": plan.master.model_copy(update=dict(settings["master"]))})
    sess.checkpoint("new project from a recording")
    sess.image, sess.caption, sess.plan = None, plan.caption, plan
    sess.title = ""
    sess.plan_serial += 1
    sess.ui["caption_serial"] = sess.ui.get("caption_serial", 0) + 1
    sess.ui["captioned_by"] = sess.pipeline.captioner
    sess.ui["plan_key"] = (plan.caption.text, plan.caption.source, settings["style"], settings["duration_s"],
                           settings["seed"], settings["planner"])
    st.info(f"New project from your recording: it is the bed ({len(plan.layers) - 1} more layers from its tags). "
            "Press Generate to hear it.")
    return True
