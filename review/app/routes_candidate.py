"""The candidate page (the editor's workstation) and its forms: trim, cue edits, comments,
approve, reject, request changes. A refused form renders the page again with the reason next to
the control and the typed values kept."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from clips_metadata.comments_repo import CommentsRepo
from clips_metadata.review_store import QueueFilter
from pipeline.cue_track import check_track
from pipeline.labels import CREDIBILITY
from review import editing, present
from review.app.deps import RS, CurrentUser, flash, render
from review.app.routes_blur import blur_context
from review.app.routes_preview import run_after_reads
from review.app.routes_speakers import speakers_context
from review.editing import trim_candidate
from review.export_settings import PROFILE_NAMES
from review.proxy_files import proxy_path
from review.rules import Action, allowed_actions, current_approvals, required_approvals
from review.service import ReviewService
from review.tracks import current_tracks, source_fps
from review.transcript_views import sentences_near, words_of

router = APIRouter()
CandidateId = Annotated[int, Path(ge=1, le=2**31)]


def neighbours(rs: Any, candidate_id: int, user: Any) -> tuple[int | None, int | None]:
    """Previous and next candidate of the user's "waiting for me" view (first page)."""
    items = list(rs.queue_ids(QueueFilter(waiting_for=user.name), per_page=50))
    if candidate_id not in items:
        nxt = items[0] if items else None
        return None, nxt
    k = items.index(candidate_id)
    return (items[k - 1] if k else None), (items[k + 1] if k + 1 < len(items) else None)


TRANSCRIPT_MARGIN = 45.0  # seconds of transcript shown around the clip unless asked for all


def page_context(request: Request, candidate_id: int, user: Any, rs: Any) -> dict[str, Any]:
    """What candidate.html shows. A page view reads: its repeated reads are made once."""
    from clips_metadata.read_memo import remembered_reads

    with remembered_reads():
        return _page_context(request, candidate_id, user, rs)


def _page_context(request: Request, candidate_id: int, user: Any, rs: Any) -> dict[str, Any]:
    from clips_metadata.candidates_repo import CandidateRepo
    from clips_metadata.read_memo import prime

    store = rs.store
    page = rs.candidate_page(candidate_id)
    cand, ctx = page.candidate, page.context
    prime(CandidateRepo.get_candidate, store, candidate_id, value=cand)  # the plan asks for it again
    # what the cut holds (its first track, the sentences marked in the clip), a second around it
    sentences = sentences_near(ctx, cand.start - 1.0, cand.end + 1.0)
    fps = source_fps(store, cand.interview_id)
    tracks = current_tracks(store, cand, words_of(sentences), fps)
    original = cand.language or "en"
    track = tracks.get(original)
    problems: dict[str, list[str]] = {}
    if track is not None:
        for p in check_track(track):
            problems.setdefault(p.cue_id, []).append(p.message)
    from review.app.routes_preview import preview_status_later
    from review.plan_view import text_redactions

    planner = planner_of(request, rs)  # one planner for the page: its plan is built once
    svc = ReviewService(rs, planner)
    facts = svc.facts(candidate_id, page.state)  # approvals count only for the plan they approved
    in_clip = set(present.sentences_in(sentences, cand.start, cand.end))
    comments = CommentsRepo(store).thread(candidate_id)
    tl = present.timeline([(s.start, s.end, s.labels) for s in ctx.sentences], ctx.duration,
                          cand.start, cand.end)
    workspace = request.app.state.workspace
    has_proxy = proxy_path(workspace, cand.source_sha256) is not None
    valid = current_approvals(facts)
    actions = {a.value for a in allowed_actions(facts, user.role)}
    exports = rs.exports(candidate_id)
    whole = request.query_params.get("transcript") == "all"
    shown = [s for s in ctx.sentences if whole or (s.end > cand.start - TRANSCRIPT_MARGIN
                                                     and s.start < cand.end + TRANSCRIPT_MARGIN)]
    return {
        "translation_rows": sorted((k, v) for k, v in cand.translations.items() if k != original),
        "shown_sentences": shown, "whole_transcript": whole or len(shown) == len(ctx.sentences),
        "c": cand, "ctx": ctx, "in_clip": in_clip, "timeline": tl, "has_proxy": has_proxy,
        "fps": float(fps), "track": track, "problems": problems,
        "flagged": present.flagged_in_clip(ctx.sentences, cand.start, cand.end, cand.risks),
        "warnings_in": [w for w in ctx.warnings if w.end > cand.start and w.start < cand.end],
        "warnings_out": [w for w in ctx.warnings if not (w.end > cand.start and w.start < cand.end)],
        "credibility": CREDIBILITY in cand.risks or bool(ctx.warnings),
        "history": page.history, "approvals": valid,
        "approvals_needed": required_approvals(facts.risks), "edited_by": facts.edited_by,
        "actions": actions,
        "can_approve": 'approve' in actions and user.name not in facts.edited_by
        and user.name not in {a.reviewer for a in valid},
        "approved_by_me": user.name in {a.reviewer for a in valid},
        "versions": page.versions,
        "comments": comments, "open_requests": [c for c in comments if c.open and c.kind == "change_request"],
        "ticks": present.ticks(ctx.duration),
        "waveform": present.waveform_path(store, workspace, ctx.source_sha256, cand, ctx.duration),
        "exports": exports,
        "export_enabled": getattr(request.app.state, "export_candidate", None) is not None,
        "export_profiles": PROFILE_NAMES,
        "jobs": [j for j in getattr(request.app.state, "export_jobs", {}).values()
                 if j.candidate_id == candidate_id],
        "trim_in": f"{cand.start:.3f}", "trim_out": f"{cand.end:.3f}", "trim_errors": {},
        "trim_warning": "", "form_error": {},
        "preview": preview_status_later(request, rs, candidate_id, planner),
        "redactions": text_redactions(store, candidate_id),
        **speakers_context(rs, cand, request), **blur_context(rs, cand, request),
    }


@router.get("/candidates/{candidate_id}")
def candidate_page(request: Request, candidate_id: CandidateId, user: CurrentUser, rs: RS) -> Response:
    # One read transaction for the page's reads, the template's included (a write, such as
    # queueing the preview, ends it and the next read opens another).
    with rs.store.shared_reads():
        response = render(request, "candidate.html", page_context(request, candidate_id, user, rs), user=user)
    run_after_reads(request)  # queue the preview the page reported as queued
    return response


@router.get("/candidates/{candidate_id}/next")
def next_waiting(request: Request, candidate_id: CandidateId, user: CurrentUser, rs: RS) -> Response:
    """The next (or, with ?back=1, previous) candidate of the user's "waiting for me" view."""
    prev_id, next_id = neighbours(rs, candidate_id, user)
    target = prev_id if request.query_params.get("back") else next_id
    if target is None:
        flash(request, "nothing more is waiting for you in that direction")
        return RedirectResponse("/?view=waiting", status_code=303)
    return _back(target)


def _back(candidate_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/candidates/{candidate_id}{anchor}", status_code=303)


def _again(request: Request, candidate_id: int, user: Any, rs: Any, **extra: Any) -> Response:
    """The page again, status 422, with the refusal next to its control and the typed values."""
    with rs.store.shared_reads():
        ctx = page_context(request, candidate_id, user, rs)
        ctx.update(extra)
        response = render(request, "candidate.html", ctx, status_code=422, user=user)
    run_after_reads(request)
    return response


def planner_of(request: Request, rs: Any) -> Any:
    """The plan builder over the app's store and workspace (approvals bind the plan)."""
    from review.plans import Planner

    return Planner.for_workspace(rs.store, request.app.state.workspace)


@router.post("/candidates/{candidate_id}/decide")
def decide_action(
    request: Request,
    candidate_id: CandidateId,
    user: CurrentUser,
    rs: RS,
    action: Annotated[str, Form(max_length=30)],
    version: Annotated[int, Form()],
    note: Annotated[str, Form(max_length=4000)] = "",
    ack: Annotated[list[str] | None, Form()] = None,
    then: Annotated[str, Form(max_length=10)] = "",
    at: Annotated[str, Form(max_length=20)] = "",
    plan_hash: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    act = Action(action) if action in {a.value for a in Action} - {"edit"} else None
    if act is None:
        flash(request, f"unknown action {action!r}", "error")
        return _back(candidate_id)
    if act in (Action.REQUEST_CHANGES, Action.REJECT) and not note.strip():
        return _again(request, candidate_id, user, rs, form_error={act.value: "Say what should change."})
    # An approval names the plan whose preview the reviewer watched; none given is stale too.
    # Its reads before the write share one read transaction (the write re-checks the state).
    with rs.store.shared_reads():
        d = ReviewService(rs, planner_of(request, rs)).act(
            candidate_id, act, actor=user.name, role=user.role, acknowledged_risks=ack or (), note=note,
            expected_version=version, plan_hash=plan_hash)
    if act is Action.REQUEST_CHANGES:
        t = present.parse_time(at)
        CommentsRepo(rs.store).add(candidate_id, version, user.name, note,
                                   t if t is not None and t >= 0 else 0.0, kind="change_request")
    msg = f"{act.value.replace('_', ' ')}: now {d.to_state.value.replace('_', ' ')}"
    if d.records_approval and d.approvals_after < d.approvals_needed:
        msg += f" ({d.approvals_after} of {d.approvals_needed} approvals)"
    flash(request, msg)
    if then == "next":
        _, nxt = neighbours(rs, candidate_id, user)
        if nxt is not None:
            return _back(nxt)
        flash(request, "nothing else is waiting for you")
        return RedirectResponse("/?view=waiting", status_code=303)
    return _back(candidate_id)


@router.post("/candidates/{candidate_id}/trim")
def trim(
    request: Request,
    candidate_id: CandidateId,
    user: CurrentUser,
    rs: RS,
    version: Annotated[int, Form()],
    start: Annotated[str, Form(max_length=30)] = "",
    end: Annotated[str, Form(max_length=30)] = "",
    confirm: Annotated[str, Form(max_length=5)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    t_in, t_out = present.parse_time(start), present.parse_time(end)
    errors: dict[str, str] = {}
    if t_in is None:
        errors["in"] = "Type the in point as seconds (e.g. 12.5) or m:ss.ss."
    if t_out is None:
        errors["out"] = "Type the out point as seconds (e.g. 42) or m:ss.ss."
    if not (errors or t_in is None or t_out is None):
        done = trim_candidate(rs, candidate_id, version, t_in, t_out, confirm_mid_sentence=confirm == "yes",
                              actor=user.name, role=user.role, note=note)
        if done.unchanged:
            flash(request, "trim unchanged after snapping to word boundaries")
            return _back(candidate_id)
        if done.saved:
            flash(request, f"trimmed to {done.start:.3f}–{done.end:.3f} s (snapped to word boundaries and "
                           "frames); back to proposed")
            for d in done.dropped:
                flash(request, f"edit dropped: cue “{d.text[:60]}” ({d.start:.2f}–{d.end:.2f} s): {d.reason}",
                      "error")
            return _back(candidate_id)
        errors, warning = dict(done.errors), done.warning
    else:
        warning = ""
    return _again(request, candidate_id, user, rs, trim_in=start, trim_out=end, trim_errors=errors,
                  trim_warning=warning)


@router.post("/candidates/{candidate_id}/cues/{cue_id}")
def edit_cue(
    request: Request,
    candidate_id: CandidateId,
    cue_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")],
    user: CurrentUser,
    rs: RS,
    version: Annotated[int, Form()],
    op: Annotated[str, Form(max_length=20)] = "text",
    text: Annotated[str, Form(max_length=2000)] = "",
    at: Annotated[int, Form(ge=0, le=2000)] = 0,
) -> Response:
    if op not in editing.CUE_OPS:
        flash(request, f"unknown cue operation {op!r}", "error")
        return _back(candidate_id)
    try:
        saved, at_s = editing.edit_cue(rs, candidate_id, version, cue_id, op, text=text, at=at,
                                       actor=user.name, role=user.role)
    except editing.CueEditRefused as exc:
        return _again(request, candidate_id, user, rs, form_error={f"cue-{cue_id}": str(exc)})
    if not saved:
        flash(request, "cue unchanged (held by its neighbours or the cut)")
    else:
        flash(request, f"cue {at_s:.2f} s saved ({op}); back to proposed")
    return _back(candidate_id, f"#cue-{cue_id}")


@router.post("/candidates/{candidate_id}/comments")
def add_comment(
    request: Request,
    candidate_id: CandidateId,
    user: CurrentUser,
    rs: RS,
    version: Annotated[int, Form()],
    body: Annotated[str, Form(max_length=4000)] = "",
    at: Annotated[str, Form(max_length=20)] = "",
    until: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    t, u = present.parse_time(at), present.parse_time(until) if until.strip() else None
    if not body.strip() or t is None or (until.strip() and (u is None or u < t)):
        msg = ("Write a comment." if not body.strip()
               else "Give the time as seconds or m:ss (end after start).")
        return _again(request, candidate_id, user, rs, form_error={"comment": msg},
                      comment_body=body, comment_at=at, comment_until=until)
    CommentsRepo(rs.store).add(candidate_id, version, user.name, body, t, u)
    flash(request, "comment added")
    return _back(candidate_id, "#comments")


@router.post("/candidates/{candidate_id}/comments/{comment_id}/resolve")
def resolve_comment(request: Request, candidate_id: CandidateId, comment_id: Annotated[int, Path(ge=1)],
                    user: CurrentUser, rs: RS) -> Response:
    CommentsRepo(rs.store).resolve(candidate_id, comment_id, user.name)
    flash(request, "comment resolved")
    return _back(candidate_id, "#comments")


@router.post("/candidates/{candidate_id}/text")
async def edit_text(request: Request, candidate_id: CandidateId, user: CurrentUser, rs: RS) -> Response:
    """Translation text (and subtitle text of languages without a cue track) as a new version."""
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    version = int(str(form.get("version", "0")) or 0)
    note = str(form.get("note", ""))[:4000]
    subtitles: dict[str, str] = {}
    translations: dict[str, str] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str) or len(value) > 20_000:
            continue
        if key.startswith("sub_") and _lang_ok(key[4:]):
            subtitles[key[4:]] = value.strip()
        elif key.startswith("tr_") and _lang_ok(key[3:]):
            translations[key[3:]] = value.strip()
    cand = await run_in_threadpool(rs.store.get_candidate, candidate_id)
    # the original language's subtitles are its cue track: edited cue by cue, never as free text
    if subtitles.pop(cand.language or "en", None) is not None:
        flash(request, "the original subtitles are edited cue by cue in the cue list", "error")
    changes: dict[str, Any] = {}
    new_subs = {**cand.subtitles, **{k: v for k, v in subtitles.items() if v or k in cand.subtitles}}
    new_trs = {**cand.translations, **{k: v for k, v in translations.items() if v or k in cand.translations}}
    if new_subs != dict(cand.subtitles):
        changes["subtitles"] = new_subs
    if new_trs != dict(cand.translations):
        changes["translations"] = new_trs
    if not changes:
        flash(request, "text unchanged")
        return _back(candidate_id)
    await run_in_threadpool(lambda: ReviewService(rs).edit(
        candidate_id, version, changes, actor=user.name, role=user.role,
        note=note or "edited " + " and ".join(sorted(changes))))
    flash(request, "text saved as a new version; back to proposed")
    return _back(candidate_id)


def _lang_ok(code: str) -> bool:
    return 1 <= len(code) <= 12 and all(c.isalnum() or c == "-" for c in code)
