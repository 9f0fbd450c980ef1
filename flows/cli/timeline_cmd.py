"""`counterclips import-timeline FILE --candidate ID`, `counterclips published ...`: recuts from
editing suites back into review, and the distribution log. Parse, call a service, print."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from flows.cli.auth import add_auth_args, authenticate, shell_actor
from flows.cli.listing import print_listing
from flows.cli.usage import UsageError
from flows.cli.workspace_store import open_store


def register(sub: argparse._SubParsersAction) -> None:
    imp = sub.add_parser(
        "import-timeline", help="turn an edited timeline (OTIO, FCP 7 XML, EDL) into a new candidate version",
        description="Read an edited timeline against the candidate's source and exports and store its cut as "
                    "a new version in `proposed` (it needs review again before any export). Several ranges "
                    "of the source become one clip with cuts, stored for review; rendering cuts is refused "
                    "until supported. Other media, transitions, effects and ranges outside the source are "
                    "refused with the file's line.")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument("--candidate", type=int, required=True, metavar="ID")
    imp.add_argument("--format", dest="fmt", choices=("otio", "fcp7", "edl"),
                     help="the file's format (default: from its suffix: .otio, .xml, .edl)")
    add_auth_args(imp, what="the editor making the recut (recorded as its author; they cannot approve it)")
    imp.add_argument("--workspace", help="workspace directory (default $COUNTERCLIPS_HOME)")
    imp.set_defaults(func=cmd_import)

    pub = sub.add_parser(
        "published", help="record, list or take down publications of exported clips",
        description="`published ID --platform P --url U [--at DATE]` records that the candidate's newest "
                    "export (or --export N) was published, tied by sha256 to the exact file; "
                    "`published --list [--json]` lists them; `published ID --taken-down` (or "
                    "`published --publication N --taken-down`) marks them taken down.")
    pub.add_argument("candidate_id", type=int, nargs="?", metavar="ID")
    pub.add_argument("--platform", metavar="P")
    pub.add_argument("--url", metavar="U")
    pub.add_argument("--at", metavar="DATE", help="when (ISO date or time, UTC; default now)")
    pub.add_argument("--export", type=int, metavar="N", help="the export published (default: the newest)")
    pub.add_argument("--list", action="store_true", help="list every publication by clip, platform and date")
    pub.add_argument("--open", action="store_true", help="with --list: only those not taken down")
    pub.add_argument("--json", action="store_true", help="with --list: print JSON")
    pub.add_argument("--taken-down", action="store_true", help="mark the publications taken down")
    pub.add_argument("--publication", type=int, metavar="N", help="with --taken-down: only this publication")
    pub.add_argument("--workspace", help="workspace directory (default $COUNTERCLIPS_HOME)")
    pub.set_defaults(func=cmd_published)


def cmd_import(args: argparse.Namespace) -> int:
    from clips_metadata.review_store import ReviewStore
    from flows.services.timelines import import_timeline

    with open_store(args) as (ws, store):
        actor, role = shell_actor(), "editor"
        if args.actor:
            user = authenticate(ReviewStore(store), args.actor, args.password_file)
            actor, role = user.name, user.role
        result = import_timeline(store, ws, args.file, args.candidate, actor=actor, role=role, fmt=args.fmt)
    cuts = ""
    if result.cuts:
        cuts = "; cuts " + ", ".join(f"{a:.2f}-{b:.2f}" for a, b in result.cuts) + \
            " (stored for review; rendering cuts is not supported yet)"
    print(f"candidate {result.candidate_id}: version {result.version} from {result.fmt}, "
          f"{result.start:.3f}-{result.end:.3f} s{cuts}; now {result.status} (needs review before export)")
    return 0


def cmd_published(args: argparse.Namespace) -> int:
    from flows.services import publishing

    with open_store(args) as (ws, store):
        if args.list:
            rows = publishing.list_publications(store, open_only=args.open)
            return print_listing(rows, as_json=args.json, to_json=lambda p: p.to_json(), line=_line,
                                 empty="no publications recorded")
        if args.taken_down:
            if args.candidate_id is None and args.publication is None:
                raise UsageError("--taken-down needs a candidate ID or --publication N")
            closed = publishing.mark_taken_down(store, actor=shell_actor(), candidate_id=args.candidate_id,
                                                publication_id=args.publication, platform=args.platform,
                                                at=args.at)
            for p in closed:
                print(_line(p))
            return 0
        if args.candidate_id is None or not args.platform or not args.url:
            raise UsageError(
                "record a publication with: published ID --platform P --url U [--at DATE]")
        p = publishing.record_publication(store, args.candidate_id, args.platform, args.url,
                                          actor=shell_actor(), at=args.at, export_id=args.export)
        withdrawn = _withdrawn(store, p)
    print(_line(p))
    if withdrawn:
        print(f"counterclips: warning: {p.interviewee} has withdrawn consent: this publication is an open "
              "takedown until marked taken down")
    return 0


def _withdrawn(store: Any, p: Any) -> bool:
    from clips_metadata.publications_repo import PublicationsRepo

    person = store.get_interviewee(p.interviewee)
    return PublicationsRepo(store).withdrawn(person.id) is not None


def _line(p: Any) -> str:
    pub = p.publication
    state = f"taken down {pub.taken_down_at}" if pub.taken_down_at else "online"
    return (f"#{p.id:<4} candidate {pub.candidate_id} v{pub.version}  {pub.platform:<12} {pub.published_at}  "
            f"{state:<32} {pub.url}  sha256 {pub.file_sha256[:12]}")
