"""`counterclips demo`: a workspace with the bundled sample interview, one nightly pass, a demo
admin account, and the exact commands to open the review page.

The sample (flows/data/demo/, CC0) is synthetic speech reading fictional testimony written for
this project: counter-narrative moments (brutality, hypocrisy, false promises, mistreatment,
coercion, regret and escape, a warning) and risky ones (praise of the group, a hint at going
back, a named person), so every part of review has something to show.
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from clips_metadata.workspace import Workspace
from flows.inbox import sidecar_path
from pipeline.atomic import atomic_path
from pipeline.errors import CounterclipsError

DEMO_DIR = Path(__file__).resolve().parent / "data" / "demo"
DEMO_MEDIA = DEMO_DIR / "demo_interview.mp4"
DEMO_WORKSPACE = Path.home() / "counterclips-demo"
REVIEW_HOST, REVIEW_PORT = "127.0.0.1", 8765  # `counterclips review serve` defaults


class DemoError(CounterclipsError):
    """The demo cannot be set up (sample missing from the installation, workspace unusable)."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """What the demo creates.

    pseudonym: the sample's interviewee (must match the bundled sidecar).
    identifying_words: words the renderer hides, as "WORD=REPLACEMENT" (the sample names a cousin;
        the audience reads "his cousin", never the speaker's pseudonym).
    admin: the demo admin account's name; its password is generated on every demo run.
    """

    pseudonym: str = "Witness K"
    identifying_words: tuple[str, ...] = ("Yusuf Darwish=his cousin",)
    admin: str = "demo-admin"


@dataclass(frozen=True, slots=True)
class DemoResult:
    workspace: Path
    media: Path
    admin: str
    password_file: Path
    report_html: Path


def install_sample(ws: Workspace) -> Path:
    """Copy the sample and its sidecar into the inbox (atomically: never half a file there)."""
    if not DEMO_MEDIA.is_file():
        raise DemoError(f"the demo sample is missing from this installation ({DEMO_MEDIA})")
    ws.inbox.mkdir(parents=True, exist_ok=True)
    target = ws.inbox / DEMO_MEDIA.name
    for src, dst in ((DEMO_MEDIA, target), (sidecar_path(DEMO_MEDIA), sidecar_path(target))):
        if dst.is_file() and dst.stat().st_size == src.stat().st_size:
            continue
        # A hidden temp name: the inbox scanner skips dot-files, so a run never sees a partial copy.
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)
    return target


def register_interviewee(store: Any, options: DemoOptions = DemoOptions()) -> None:
    """The sample's (fictional) interviewee, with consent that lets its clips be exported."""
    from clips_metadata.errors import DuplicateError
    from clips_metadata.stored_records import Consent

    consent = Consent(face=True, voice=True, name=False, languages=("*",), platforms=("*",),
                      expires=date(date.today().year + 5, 12, 31))
    try:
        store.add_interviewee(options.pseudonym, identifying_words=options.identifying_words,
                              consent=consent, notes="fictional speaker of the bundled demo sample")
    except DuplicateError:
        pass  # a re-run of the demo keeps whatever an editor changed since


def create_admin(ws: Workspace, store: Any, options: DemoOptions = DemoOptions()) -> tuple[str, Path]:
    """Create (or reset) the demo admin with a fresh password, written to a 0600 file."""
    from clips_metadata.review_store import ReviewStore
    from review.passwords import hash_password

    password = secrets.token_urlsafe(12)
    rs = ReviewStore(store)
    hashed = hash_password(password)
    if rs.get_user(options.admin) is None:
        rs.add_user(options.admin, "admin", hashed)
    else:
        rs.set_password(options.admin, hashed)
    ws.secrets.mkdir(parents=True, exist_ok=True)
    path = ws.secrets / f"{options.admin}.password"
    # Create it 0600 before any secret is written into it.
    with atomic_path(path) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(password + "\n")
    path.chmod(0o600)
    return options.admin, path


def instructions(result: DemoResult) -> str:
    ws = result.workspace
    return "\n".join([
        "",
        f"Demo workspace ready: {ws}",
        f"  run report:   {result.report_html}",
        f"  admin user:   {result.admin}",
        f"  its password: in {result.password_file}  (cat it; readable by you only)",
        "",
        "Open the review page:",
        f"  counterclips review serve --workspace {_quote(ws)}",
        f"  then browse to http://{REVIEW_HOST}:{REVIEW_PORT}/ and log in as {result.admin}",
        "",
        f"Later: counterclips report --workspace {_quote(ws)}   "
        f"(run again: counterclips run --workspace {_quote(ws)})",
    ])


def _quote(path: Path) -> str:
    import shlex

    return shlex.quote(str(path))


def run_demo(ws: Workspace, options: DemoOptions = DemoOptions(), task_runner: str = "local",
             dask_address: str | None = None) -> DemoResult:
    """Set up the demo workspace and run one nightly pass over it."""
    from flows.nightly import NightlyOptions, run_nightly
    from flows.nightly_worker import RESOURCES

    ws.ensure()
    media = install_sample(ws)
    store = RESOURCES.store(ws.db_url)
    register_interviewee(store, options)
    # settle 0: the sample was renamed into place whole a moment ago.
    report = run_nightly(ws, NightlyOptions(settle_seconds=0.0), task_runner, dask_address)
    admin, password_file = create_admin(ws, store, options)
    return DemoResult(workspace=ws.root, media=media, admin=admin, password_file=password_file,
                      report_html=ws.reports / f"{report.run_id}.html")
