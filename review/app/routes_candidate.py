"""The candidate page and its forms: trim, edit text, approve, reject, request changes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.labels import CREDIBILITY
from pipeline.records import Sentence, Word
from review import present
from review.app.deps import RS, CurrentUser, flash, render
from review.proxy_files import proxy_path
from review.rules import Action, allowed_actions, current_approvals, required_approvals
from review.service import ReviewService

router = APIRouter()
CandidateId = Annotated[int, Path(ge=1, le=2**31)]


def as_sentences(context: Any) -> tuple[Sentence, ...]:
    return tuple(
        Sentence(s.index, s.start, s.end, s.text, tuple(Word(a, b, t, 1.0) for a, b, t in s.words),
                 context.language)
        for s in context.sentences
    )


@router.get("/candidates/{candidate_id}")
def candidate_page(
    request: Request,
    candidate_id: CandidateId,
    user: CurrentUser,
    rs: RS,
) -> Response:
    from review.app.routes_preview import preview_status
    from review.plan_view import text_redactions

    store = rs.store
    page = rs.candidate_page(candidate_id)
    cand, ctx = page.candidate, page.context
    svc = ReviewService(rs, planner_of(request, rs))
    facts = svc.facts(candidate_id)  # approvals count only for the plan they approved
    in_clip = set(present.sentences_in(as_sentences(ctx), cand.start, cand.end))
    tl = present.timeline([(s.start, s.end, s.labels) for s in ctx.sentences], ctx.duration,
                          cand.start, cand.end)
    workspace = request.app.state.workspace
    has_proxy = proxy_path(workspace, cand.source_sha256) is not None
    valid = current_approvals(facts)
    languages = sorted(set(cand.subtitles) | set(cand.translations) | {cand.language or "en"})
    has_translation = any(s.translation for s in ctx.sentences) and cand.language not in ("", "en")
    return render(request, "candidate.html", {
        "c": cand, "ctx": ctx, "in_clip": in_clip, "timeline": tl, "has_proxy": has_proxy,
        "has_translation": has_translation,
        "warnings": ctx.warnings, "credibility": CREDIBILITY in cand.risks or bool(ctx.warnings),
        "history": page.history, "approvals": valid,
        "approvals_needed": required_approvals(facts.risks), "edited_by": facts.edited_by,
        "actions": {a.value for a in allowed_actions(facts, user.role)},
        "can_approve_self": user.name not in facts.edited_by,
        "languages": languages,
        "text_rows": [(lang, cand.subtitles.get(lang, ""), cand.translations.get(lang, ""))
                      for lang in languages],
        "versions": page.versions,
        "preview": preview_status(request, rs, candidate_id),
        "redactions": text_redactions(store, candidate_id),
    }, user=user)


def planner_of(request: Request, rs: Any) -> Any:
    """The plan builder over the app's store and workspace (approvals bind the plan)."""
    from review.plans import Planner

    return Planner.for_workspace(rs.store, request.app.state.workspace)


def _back(candidate_id: int) -> RedirectResponse:
    return RedirectResponse(f"/candidates/{candidate_id}", status_code=303)


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
    plan_hash: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    act = Action(action) if action in {a.value for a in Action} - {"edit"} else None
    if act is None:
        flash(request, f"unknown action {action!r}", "error")
        return _back(candidate_id)
    # An approval names the plan whose preview the reviewer watched; none given is stale too.
    d = ReviewService(rs, planner_of(request, rs)).act(
        candidate_id, act, actor=user.name, role=user.role, acknowledged_risks=ack or (), note=note,
        expected_version=version, plan_hash=plan_hash)
    msg = f"{act.value.replace('_', ' ')}: now {d.to_state.value.replace('_', ' ')}"
    if d.records_approval and d.approvals_after < d.approvals_needed:
        msg += f" ({d.approvals_after} of {d.approvals_needed} approvals)"
    flash(request, msg)
    return _back(candidate_id)


@router.post("/candidates/{candidate_id}/trim")
def trim(
    request: Request,
    candidate_id: CandidateId,
    user: CurrentUser,
    rs: RS,
    version: Annotated[int, Form()],
    start: Annotated[float, Form(ge=0, le=86_400)],
    end: Annotated[float, Form(ge=0, le=86_400)],
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    cand = rs.store.get_candidate(candidate_id)
    sentences = as_sentences(rs.interview_context(candidate_id))
    words = [w for s in sentences for w in s.words]
    s_in, s_out = present.snap_trim(start, end, words)
    changes: dict[str, Any] = {"start": s_in, "end": s_out,
                               "sentence_indices": list(present.sentences_in(sentences, s_in, s_out))}
    # follow the new cut with the subtitle text unless a person has written it
    original = cand.language or "en"
    old_text = cand.subtitles.get(original, "")
    if present.is_auto_text(old_text, sentences, cand.start, cand.end, cand.sentence_indices):
        changes["subtitles"] = {**cand.subtitles, original: present.spoken_text(sentences, s_in, s_out)}
    if (s_in, s_out) == (round(cand.start, 3), round(cand.end, 3)):
        flash(request, "trim unchanged after snapping to word boundaries")
        return _back(candidate_id)
    ReviewService(rs).edit(candidate_id, version, changes, actor=user.name, role=user.role,
                           note=note or f"trimmed to {s_in:.2f}-{s_out:.2f} s")
    flash(request, f"trimmed to {s_in:.2f}–{s_out:.2f} s (snapped to word boundaries); back to proposed")
    return _back(candidate_id)


@router.post("/candidates/{candidate_id}/text")
async def edit_text(
    request: Request,
    candidate_id: CandidateId,
    user: CurrentUser,
    rs: RS,
) -> Response:
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
    from starlette.concurrency import run_in_threadpool

    cand = await run_in_threadpool(rs.store.get_candidate, candidate_id)
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
