"""`counterclips export ID [ID ...]`: parse, call `flows.services.exporting.export_candidate` (or,
with `--format`, `flows.services.timelines.export_timelines`), print the paths written (with a
progress bar on stderr). A gate refusal is a one-line error."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from flows.cli.auth import add_auth_args, authenticate
from flows.cli.usage import UsageError
from flows.cli.workspace_store import open_store
from review.export_settings import PROFILE_NAMES, X264_PRESETS, ExportSettings, Progress


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="render an approved candidate (goes through the review gate)",
        description="Render an approved candidate version: the review gate must authorise it (the "
                    "interviewee's consent decides face blur, voice change and name redaction); "
                    "prints the paths written.")
    p.add_argument("candidate_ids", type=int, nargs="+", metavar="ID",
                   help="candidate id; with --format, several make one sequence in this order")
    p.add_argument("--format", dest="timeline_format", choices=("otio", "fcp7", "fcpxml", "edl"),
                   help="write a timeline for an editing suite (pointing at the rendered, redacted clip) "
                        "plus SRT subtitles per language, instead of only rendering")
    p.add_argument("--raw-source", action="store_true",
                   help="with --format: reference the unredacted source instead (needs --as an account "
                        "allowed to hand out raw footage; the gate signs a separate grant, the manifest "
                        "records it)")
    add_auth_args(p, what="the account acting (needed for --raw-source)")
    p.add_argument("--profile", choices=PROFILE_NAMES, default="master",
                   help="master (16:9, source size up to 1080p, -23 LUFS), vertical (1080x1920, "
                        "-14 LUFS) or square (1:1, -14 LUFS); default master")
    p.add_argument("--lang", metavar="CODE",
                   help="language of the burned subtitles (default: the interview's language); 'all' "
                        "renders every approved, consented language (translations must be checked) and "
                        "names each refused language with its reason")
    p.add_argument("--platform", default="any", metavar="NAME",
                   help="where the clip will be published; the interviewee's consent must cover it")
    p.add_argument("--out", type=Path, metavar="DIR", help="output directory (default: WORKSPACE/exports)")
    p.add_argument("--preset", choices=X264_PRESETS, metavar="PRESET",
                   help="x264 preset: faster ones encode sooner, slower ones make smaller files at the "
                        "same quality (default veryfast; medium or slower for archive copies)")
    p.add_argument("--workspace", help="workspace directory (default $COUNTERCLIPS_HOME)")
    p.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from flows.services.exporting import export_candidate

    if args.timeline_format is None and args.raw_source:
        raise UsageError("--raw-source only applies to a timeline (--format)")
    with open_store(args) as (ws, store):
        if args.timeline_format:
            return _timeline(args, store, ws)
        if args.lang == "all":
            return _all_languages(args, store, ws)
        settings = ExportSettings(profile=args.profile, language=args.lang, platform=args.platform,
                                  out_dir=args.out, preset=args.preset, actor=os.environ.get("USER", "cli"))
        for cid in args.candidate_ids:
            if args.no_progress:
                record = export_candidate(store, ws, cid, settings)
            else:
                with _progress_bar(cid) as progress:
                    record = export_candidate(store, ws, cid, settings, progress)
            for path in record.paths:
                print(path)
    return 0


def _all_languages(args: argparse.Namespace, store: object, ws: object) -> int:
    """Every publishable language of each candidate, one render each; a refused language is one
    line on stderr. Exit 0 when every candidate exported at least one language."""
    from dataclasses import replace

    from flows.services.exporting import export_candidate
    from review.gate import GateRefused
    from review.translating import publishable_languages

    base = ExportSettings(profile=args.profile, language=None, platform=args.platform, out_dir=args.out,
                          preset=args.preset, actor=os.environ.get("USER", "cli"))
    code = 0
    for cid in args.candidate_ids:
        languages, refused = publishable_languages(store, cid)  # type: ignore[arg-type]
        done = 0
        for lang in languages:
            try:
                record = export_candidate(store, ws, cid, replace(base, language=lang))  # type: ignore[arg-type]
            except GateRefused as exc:
                refused[lang] = f"{lang}: {exc}"
                continue
            done += 1
            for path in record.paths:
                print(path)
        for lang in sorted(refused):
            print(f"counterclips: candidate {cid} not exported in {refused[lang]}", file=sys.stderr)
        if not done:
            code = 1
    return code


def _timeline(args: argparse.Namespace, store: object, ws: object) -> int:
    from clips_metadata.review_store import ReviewStore
    from flows.services.timelines import TimelineRequest, export_timelines

    actor, role = os.environ.get("USER", "cli"), ""
    if args.actor:
        user = authenticate(ReviewStore(store), args.actor, args.password_file)
        actor, role = user.name, user.role
    elif args.raw_source:
        raise UsageError("--raw-source needs --as USER (an account allowed to hand out raw footage)")
    export = ExportSettings(profile=args.profile, language=args.lang, platform=args.platform,
                            preset=args.preset, actor=actor)
    request = TimelineRequest(fmt=args.timeline_format, export=export, out_dir=args.out,
                              raw_source=args.raw_source, role=role)
    result = export_timelines(store, ws, args.candidate_ids, request)  # type: ignore[arg-type]
    for path in result.paths:
        print(path)
    return 0


class _progress_bar:  # noqa: N801 - used as a context manager, reads like one
    """A tqdm bar on stderr, fed with the render's fraction done."""

    def __init__(self, candidate_id: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=100, unit="%", desc=f"export {candidate_id}", file=sys.stderr,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    def __enter__(self) -> Progress:
        def progress(fraction: float) -> None:
            self.bar.update(max(0.0, round(fraction * 100, 1) - self.bar.n))

        return progress

    def __exit__(self, *_exc: object) -> None:
        self.bar.close()
