"""Translation commands (issue 17): `counterclips track export|import|start|confirm|translated|
check|readers`, `counterclips mt install|list`, `counterclips memory import|export` and
`counterclips languages [--json]`. Each parses, calls `review.translating`, prints; a file's
problems are printed one per line with their line numbers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from flows.cli.auth import add_auth_args, authenticate
from flows.cli.listing import print_listing
from flows.cli.workspace_store import open_store
from pipeline.translation.errors import TrackFileError


def register(sub: argparse._SubParsersAction) -> None:
    track = sub.add_parser("track", help="subtitle translation tracks: files, drafting, checks",
                           description="Translation tracks per candidate version and language.")
    tsub = track.add_subparsers(dest="track_command", metavar="ACTION", required=True)

    p = tsub.add_parser("export", help="write a track as SRT or XLIFF for offline translation")
    _common(p)
    p.add_argument("--format", choices=("srt", "xliff"), required=True)
    p.add_argument("--xliff-version", choices=("1.2", "2.0"), default="1.2")
    p.add_argument("--out", type=Path, required=True, metavar="FILE")
    p.set_defaults(func=cmd_track_export)

    p = tsub.add_parser("import", help="read a translated SRT or XLIFF file back (validated)")
    _common(p)
    p.add_argument("file", type=Path, metavar="FILE")
    add_auth_args(p, required=True, what="the translator importing it")
    p.set_defaults(func=cmd_track_import)

    p = tsub.add_parser("start", help="create a draft track (memory matches, then an engine if given)")
    _common(p)
    p.add_argument("--engine", choices=("apertium", "argos", "libretranslate"),
                   help="machine-translation engine for a draft (its cues stay machine-made until confirmed)")
    p.add_argument("--mt-url", default="", metavar="URL", help="self-hosted LibreTranslate server")
    p.add_argument("--no-memory", action="store_true", help="do not fill exact translation-memory matches")
    add_auth_args(p, required=True, what="the translator")
    p.set_defaults(func=cmd_track_start)

    for name, helptext in (("confirm", "confirm machine or memory cues as they are (all, or --cue ID)"),
                           ("translated", "mark the track translated (draft -> translated)"),
                           ("check", "check a translated track (a second person who reads the language)")):
        p = tsub.add_parser(name, help=helptext)
        _common(p)
        if name == "confirm":
            p.add_argument("--cue", metavar="ID", help="one source cue id (default: every cue)")
        add_auth_args(p, required=True, what="the person acting")
        p.set_defaults(func=cmd_track_status, action=name)

    p = tsub.add_parser("readers", help="record the languages a user reads (checks depend on it)")
    p.add_argument("user", metavar="USER")
    p.add_argument("languages", nargs="+", metavar="LANG")
    p.add_argument("--workspace", help="workspace directory (default $COUNTERCLIPS_HOME)")
    p.set_defaults(func=cmd_readers)

    mt = sub.add_parser("mt", help="machine-translation engines (optional)")
    msub = mt.add_subparsers(dest="mt_command", metavar="ACTION", required=True)
    p = msub.add_parser("install", help="install an Argos .argosmodel file from disk")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--workspace", help="workspace directory (default $COUNTERCLIPS_HOME)")
    p.set_defaults(func=cmd_mt_install)
    p = msub.add_parser("list", help="engines usable here and their language pairs")
    p.add_argument("--mt-url", default="", metavar="URL", help="self-hosted LibreTranslate server")
    p.add_argument("--workspace", help="workspace directory (default $COUNTERCLIPS_HOME)")
    p.set_defaults(func=cmd_mt_list)

    mem = sub.add_parser("memory", help="translation memory: TMX import and export")
    memsub = mem.add_subparsers(dest="memory_command", metavar="ACTION", required=True)
    for name in ("import", "export"):
        p = memsub.add_parser(name, help=f"{name} a TMX 1.4 file")
        p.add_argument("file", type=Path, metavar="FILE.tmx")
        p.add_argument("--workspace", help="workspace directory (default $COUNTERCLIPS_HOME)")
        p.set_defaults(func=cmd_memory, action=name)

    p = sub.add_parser("languages",
                       help="per clip and language: missing, draft, translated, checked, exported")
    p.add_argument("candidate_ids", type=int, nargs="*", metavar="ID")
    p.add_argument("--json", action="store_true", help="one JSON document")
    p.add_argument("--workspace", help="workspace directory (default $COUNTERCLIPS_HOME)")
    p.set_defaults(func=cmd_languages)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("candidate_id", type=int, metavar="ID")
    p.add_argument("--lang", required=True, metavar="CODE", help="the track's language (BCP 47)")
    p.add_argument("--workspace", help="workspace directory (default $COUNTERCLIPS_HOME)")


def _who(args: argparse.Namespace, store: Any) -> str:
    from clips_metadata.review_store import ReviewStore

    return str(authenticate(ReviewStore(store), args.actor, args.password_file).name)


def cmd_track_export(args: argparse.Namespace) -> int:
    from pipeline.atomic import write_text_atomic
    from review.translating import export_track_file

    with open_store(args) as (_, store):
        text = export_track_file(store, args.candidate_id, args.lang, args.format, args.xliff_version)
    write_text_atomic(args.out, text)
    print(args.out)
    return 0


def cmd_track_import(args: argparse.Namespace) -> int:
    from review.translating import import_track_file

    with open_store(args) as (_, store):
        user = _who(args, store)
        try:
            result = import_track_file(store, args.candidate_id, args.lang, args.file, user=user)
        except TrackFileError as exc:
            for problem in exc.problems:
                print(f"{exc.source}: {problem}", file=sys.stderr)
            print(f"counterclips: error: {args.file.name}: {len(exc.problems)} problem(s); nothing stored",
                  file=sys.stderr)
            return 1
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    track = result.track
    print(f"{args.lang}: {result.changed} cue(s) changed; track is {track.status}"
          + ("; machine-made cues remain" if track.machine_made else ""))
    return 0


def cmd_track_start(args: argparse.Namespace) -> int:
    from review.translating import engine_named, start_track

    with open_store(args) as (ws, store):
        user = _who(args, store)
        engine = engine_named(args.engine, ws, args.mt_url) if args.engine else None
        track = start_track(store, args.candidate_id, args.lang, user=user, engine=engine,
                            use_memory=not args.no_memory)
    filled = sum(1 for c in track.cues if not c.is_empty)
    made = sum(1 for c in track.cues if c.machine_made)
    print(f"{args.lang}: {filled}/{len(track.cues)} cue(s) drafted, {made} machine-made until confirmed")
    return 0


def cmd_track_status(args: argparse.Namespace) -> int:
    from review import translating as tr

    with open_store(args) as (_, store):
        user = _who(args, store)
        if args.action == "confirm":
            track = (tr.confirm_cue(store, args.candidate_id, args.lang, args.cue, user=user) if args.cue
                     else tr.confirm_all(store, args.candidate_id, args.lang, user=user))
        elif args.action == "translated":
            track = tr.mark_translated(store, args.candidate_id, args.lang, user=user)
        else:
            track = tr.check_track(store, args.candidate_id, args.lang, user=user)
    print(f"{args.lang}: {track.status}" + (" (machine-made cues remain)" if track.machine_made else ""))
    return 0


def cmd_readers(args: argparse.Namespace) -> int:
    from review.translating import reads

    with open_store(args) as (_, store):
        langs = reads(store, args.user, args.languages)
    print(f"{args.user} reads {', '.join(langs)}")
    return 0


def cmd_mt_install(args: argparse.Namespace) -> int:
    from clips_metadata.workspace import resolve_workspace
    from pipeline.translation.engines import install_argos_model

    ws = resolve_workspace(args.workspace).ensure()
    print(install_argos_model(args.file, ws.root))
    return 0


def cmd_mt_list(args: argparse.Namespace) -> int:
    from clips_metadata.workspace import resolve_workspace
    from pipeline.translation.engines import available_engines

    ws = resolve_workspace(args.workspace).ensure()
    engines = available_engines(ws.root, args.mt_url)
    if not engines:
        print("no machine-translation engine here (translation works without one)")
    for engine in engines:
        try:
            pairs = ", ".join(f"{a}->{b}" for a, b in engine.pairs()) or "no language pairs"
        except Exception as exc:  # noqa: BLE001 - a listing names a broken engine instead of failing
            pairs = f"unavailable: {exc}"
        print(f"{engine.name}: {pairs}")
    return 0


def cmd_memory(args: argparse.Namespace) -> int:
    from review.translating import export_memory, import_memory

    with open_store(args) as (_, store):
        if args.action == "export":
            n = export_memory(store, args.file)
            print(f"{args.file}: {n} pair(s)")
            return 0
        try:
            n = import_memory(store, args.file)
        except TrackFileError as exc:
            for problem in exc.problems:
                print(f"{exc.source}: {problem}", file=sys.stderr)
            return 1
    print(f"{args.file.name}: {n} new pair(s)")
    return 0


def cmd_languages(args: argparse.Namespace) -> int:
    from review.translating import language_rows

    with open_store(args) as (_, store):
        rows = language_rows(store, args.candidate_ids or None)
    return print_listing(rows, as_json=args.json, to_json=lambda r: r.to_json(), line=_language_line,
                         empty="no clips with translations or consented languages")


def _language_line(r: Any) -> str:
    extra = f", {r.machine_made} machine-made" if r.machine_made else ""
    extra += f", {r.needs_look} need a look" if r.needs_look else ""
    return (f"candidate {r.candidate_id} v{r.version} {r.language}: {r.state} "
            f"({r.translated}/{r.cues} cues{extra})")
