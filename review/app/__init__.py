"""The editors' review web app: `create_app(workspace)` builds it; `counterclips review serve`
runs it under uvicorn on 127.0.0.1.

Sessions are stored server-side (`review/app/sessions.py`); the cookie (HttpOnly,
SameSite=Strict, Secure when `secure_cookies`) carries only a signed random token. Every POST
carries the session's CSRF token; pages need a login, media routes answer 401 without one, and a
cookie whose session has ended (logout, user disabled, password changed) gets 401 everywhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clips_metadata.workspace import Workspace

if TYPE_CHECKING:
    from review.app.routes_export import ExportService

PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"
SESSION_COOKIE = "cc_session"
SESSION_HOURS = 10


# What the first queue and candidate page would otherwise import and compile (0.3-0.5 s each):
# paid at start-up, not by the first reviewers after a restart.
_WARM_MODULES = (
    "clips_metadata.cue_tracks_repo", "clips_metadata.plans_repo", "clips_metadata.waveforms_repo",
    "pipeline.publication", "pipeline.cue_track", "pipeline.cue_track_io", "pipeline.render.render_export",
    "pipeline.translation.track", "pipeline.waveform", "review.plans", "review.plan_view",
    "review.previews", "review.tracks", "review.translating", "pipeline.themes",
    "clips_metadata.publications_repo", "pipeline.render.timing", "pipeline.timeline.records",
)


def _warm_up(app: Any) -> None:
    import importlib

    from pipeline.labels import taxonomy_ids

    for name in _WARM_MODULES:
        importlib.import_module(name)
    taxonomy_ids()  # the label colours and risk names of every page read the taxonomy once
    env = app.state.templates.env
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)


def settle_memory() -> None:
    """For a long-running server process, once it is warm: the objects made at start (modules,
    templates, the taxonomy) leave the collector's sight, and young collections run less often.
    The cyclic collector took about a tenth of a reviewer round's CPU (`bench/review_round_cpu.py`),
    and a full collection in the middle of a request lands in the page's tail latency."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def create_app(
    workspace: Workspace,
    *,
    store: Any = None,
    secure_cookies: bool = False,
    session_key: bytes | None = None,
    require_admin: bool = False,
    export_candidate: ExportService | None = None,
    server_process: bool = False,
) -> Any:
    """The FastAPI app. `store` (a clips_metadata.store.Store) is opened from the workspace in
    the lifespan when not given, and closed there. `require_admin` refuses to start without an
    admin account (the serve command sets it). `export_candidate` is the export service
    (flows.services.exporting.export_candidate, injected because review may not import flows);
    without it the export route answers 404. `server_process`: the app owns its process (the
    serve command), so it may tune the process's garbage collector (`settle_memory`)."""
    from fastapi import Depends, FastAPI

    from review.app import (
        deps,
        routes_auth,
        routes_blur,
        routes_candidate,
        routes_export,
        routes_labels,
        routes_media,
        routes_preview,
        routes_queue,
        routes_speakers,
    )
    from review.app.sessions import ServerSessionMiddleware
    from review.app.static_assets import FingerprintedStatic
    from review.keys import load_or_create_key

    key = session_key or load_or_create_key(workspace, "session")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from clips_metadata.review_store import ReviewStore

        own = store is None
        s = store
        if own:
            from clips_metadata.store import Store

            s = Store.for_workspace(workspace)
        try:
            rs = ReviewStore(s)
            if require_admin and rs.count_admins() == 0:
                raise deps.NoAdmin(
                    "no admin account: create one with `counterclips user add NAME --role admin`")
            app.state.review_store = rs
            from starlette.concurrency import run_in_threadpool

            await run_in_threadpool(_warm_up, app)
            if server_process:
                settle_memory()
            yield
        finally:
            worker = getattr(app.state, "preview_worker", None)
            if worker is not None:
                worker.stop()
            if own:
                s.close()

    app = FastAPI(title="counterclips review", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None, dependencies=[Depends(deps.csrf_protect)])
    app.state.workspace = workspace
    app.state.export_candidate = export_candidate
    app.state.templates = deps.make_templates(TEMPLATES)
    if store is not None:
        # usable without the lifespan too (plain TestClient(app) without a `with` block)
        from clips_metadata.review_store import ReviewStore

        app.state.review_store = ReviewStore(store)
    app.add_middleware(deps.SecurityHeaders)
    app.add_middleware(ServerSessionMiddleware, secret_key=key, session_cookie=SESSION_COOKIE,
                       max_age=SESSION_HOURS * 3600, same_site="strict", https_only=secure_cookies)
    static = FingerprintedStatic(STATIC)
    app.state.templates.env.globals["static_url"] = static.url
    app.mount("/static", static, name="static")
    for router in (routes_auth.router, routes_queue.router, routes_candidate.router, routes_export.router,
                   routes_media.router, routes_preview.router, routes_speakers.router,
                   routes_blur.router):
        app.include_router(router)
    routes_labels.install(app)
    from review.app import routes_publications

    routes_publications.install(app)
    from review.app import routes_translate

    app.include_router(routes_translate.router)
    deps.install_error_handlers(app)
    return app
