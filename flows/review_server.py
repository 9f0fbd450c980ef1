"""The review app as uvicorn imports it in each worker process (`counterclips review serve
--workers N`): `make_app()` builds it from the environment the serve command set, with the
export service wired in (review may not import flows)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

WORKSPACE_ENV = "COUNTERCLIPS_REVIEW_WORKSPACE"
SECURE_ENV = "COUNTERCLIPS_REVIEW_SECURE_COOKIES"


def make_app() -> Any:
    """The review app for the workspace in $COUNTERCLIPS_REVIEW_WORKSPACE (uvicorn factory)."""
    from clips_metadata.workspace import Workspace
    from flows.services.exporting import export_candidate
    from review.app import create_app

    workspace = Workspace(Path(os.environ[WORKSPACE_ENV]))
    return create_app(workspace, secure_cookies=os.environ.get(SECURE_ENV) == "1", require_admin=True,
                      export_candidate=export_candidate, server_process=True)
