"""`counterclips interviewee add|list|set|show|assign`, `ingest` and `candidates`.

Every command takes `--workspace W` (else $COUNTERCLIPS_HOME, else ~/counterclips); the store
is the workspace's SQLite file unless COUNTERCLIPS_DB_URL names another database. Heavy imports
(models, media) happen inside the commands so the CLI starts fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from flows.cli.listing import print_listing
from flows.cli.usage import UsageError
from flows.cli.workspace_store import open_store

YES = ("yes", "y", "true", "1")
NO = ("no", "n", "false", "0")


def register(sub: argparse._SubParsersAction) -> None:
    ws = argparse.ArgumentParser(add_help=False)
    ws.add_argument(
        "--workspace",
        metavar="W",
        default=None,
        help="workspace directory (default: $COUNTERCLIPS_HOME or ~/counterclips)",
    )

    p = sub.add_parser("interviewee", help="the registry of interviewees and their consent")
    isub = p.add_subparsers(dest="interviewee_command", metavar="ACTION", required=True)

    add = isub.add_parser(
        "add",
        parents=[ws],
        help="register an interviewee with their consent",
        description="Register PSEUDONYM (the name shown on screen) with the real names "
        "to redact and the consent given. Consent not given is refused: languages and "
        "platforms default to none; use '*' to allow all.",
    )
    add.add_argument("pseudonym", metavar="PSEUDONYM")
    _consent_args(add, defaults=True)
    add.set_defaults(func=_interviewee_add)

    st = isub.add_parser("set", parents=[ws], help="change an interviewee's names or consent")
    st.add_argument("pseudonym", metavar="PSEUDONYM")
    _consent_args(st, defaults=False)
    st.add_argument("--remove-identifying-word", action="append", default=None, metavar="WORD",
                    help="stop hiding this identifying word (repeatable)")

    st.add_argument("--reason", default="", help="why the consent changes (kept in the audit trail, "
                    "names redacted); narrowing consent voids what it no longer covers")
    st.set_defaults(func=_interviewee_set)

    sh = isub.add_parser("show", parents=[ws], help="print one interviewee's registry entry (local only)")
    sh.add_argument("pseudonym", metavar="PSEUDONYM")
    sh.add_argument("--json", action="store_true", help="print JSON")
    sh.set_defaults(func=_interviewee_show)

    wd = isub.add_parser(
        "withdraw", parents=[ws], help="the interviewee withdraws consent: void approvals, block exports, "
        "write the takedown list",
        description="Void every approval and export authorisation of PSEUDONYM's clips, refuse their "
        "exports from now on, and write takedown-<time>.csv and .json (every recorded publication and "
        "export folder) in the workspace's reports folder. Nothing is deleted.")
    wd.add_argument("pseudonym", metavar="PSEUDONYM")
    wd.add_argument("--reason", default="", help="why (kept in the audit trail, names redacted)")
    from flows.cli.auth import add_auth_args

    add_auth_args(wd, what="the account recording the withdrawal (default: the shell user, as cli:NAME)")
    wd.set_defaults(func=_interviewee_withdraw)

    ls = isub.add_parser("list", parents=[ws], help="list interviewees and their consent")
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    ls.set_defaults(func=_interviewee_list)

    asg = isub.add_parser(
        "assign", parents=[ws], help="assign an interview (e.g. an unassigned one) to a person"
    )
    asg.add_argument("interview", type=int, metavar="INTERVIEW_ID")
    asg.add_argument("pseudonym", metavar="PSEUDONYM")
    asg.set_defaults(func=_interviewee_assign)

    ing = sub.add_parser(
        "ingest",
        parents=[ws],
        help="probe, transcribe, flag, propose candidates and make the review proxy for one file",
        description="Bring MEDIA into the store: probe, transcribe (with English translation "
        "for other languages), flag themes and risks, propose candidates and make the review proxy, "
        "as the nightly run does. Re-running on the same "
        "file does nothing; an interrupted run resumes where it stopped.",
    )
    ing.add_argument("media", metavar="MEDIA")
    ing.add_argument(
        "--interviewee", required=True, metavar="PSEUDONYM", help="registered pseudonym, or 'unassigned'"
    )
    ing.add_argument("--language", default=None, metavar="CODE", help="language hint (default: detect)")
    ing.add_argument("--recorded", default="", metavar="DATE", help="recording date, as you want it stored")
    ing.add_argument("--place", default="", help="recording place")
    ing.add_argument("--backend", choices=("faster-whisper", "openai-whisper"), default="faster-whisper")
    ing.add_argument("--model", default="base", metavar="NAME_OR_PATH", help="Whisper model (default: base)")
    ing.add_argument("--no-translate", action="store_true", help="skip the English translation")
    ing.add_argument("--interviewer-first", action="store_true",
                     help="the first voice is the interviewer's (default: who speaks most is interviewed)")
    ing.add_argument("--speakers", type=int, default=None, metavar="N", choices=range(1, 21),
                     help="number of speakers (default: found automatically, 2-6)")
    ing.add_argument("--json", action="store_true", help="print the result as JSON")
    ing.set_defaults(func=_ingest)

    cand = sub.add_parser("candidates", parents=[ws], help="list candidate clips, best first")
    cand.add_argument("--status", default=None, help="only this status (proposed, in_review, approved, ...)")
    cand.add_argument("--interview", type=int, default=None, metavar="ID", help="only this interview")
    cand.add_argument("--theme", default=None, help="only candidates with this theme")
    cand.add_argument("--risk", default=None, help="only candidates with this risk")
    cand.add_argument("--limit", type=int, default=None, help="at most N")
    cand.add_argument(
        "--json",
        action="store_true",
        help="print a JSON array (id, interview, start, end, themes, risks, rank, status, ...)",
    )
    cand.set_defaults(func=_candidates)


def _consent_args(p: argparse.ArgumentParser, defaults: bool) -> None:
    d = "no" if defaults else None
    p.add_argument(
        "--real-name",
        action="append",
        default=None,
        metavar="NAME",
        help="a real name to redact (repeatable)",
    )
    p.add_argument(
        "--identifying-word",
        action="append",
        default=None,
        metavar="WORD[=REPLACEMENT]",
        help="an identifying word or phrase to hide, with what the audience reads instead "
        "(\"Yusuf Darwish=his cousin\"; default a neutral placeholder). On `set` it is added "
        "to the others (repeatable)",
    )
    p.add_argument(
        "--public",
        action=argparse.BooleanOptionalAction,
        default=False if defaults else None,
        help="the case is public",
    )
    for what in ("face", "voice", "name"):
        p.add_argument(
            f"--consent-{what}",
            default=d,
            metavar="yes|no",
            help=f"{what} may be shown/used (default: {d or 'unchanged'})",
        )
    p.add_argument(
        "--consent-language",
        action="append",
        default=None,
        metavar="CODE",
        help="a language clips may be published in (repeatable; '*' for all)",
    )
    p.add_argument(
        "--consent-platform",
        action="append",
        default=None,
        metavar="NAME",
        help="a platform clips may be published on (repeatable; '*' for all)",
    )
    p.add_argument("--consent-expires", default=None, metavar="YYYY-MM-DD", help="last day consent covers")
    p.add_argument("--notes", default=None)


def _yes_no(value: str, flag: str) -> bool:
    v = value.strip().lower()
    if v in YES:
        return True
    if v in NO:
        return False
    raise UsageError(f"{flag} takes yes or no, not {value!r}")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--consent-expires takes a date like 2027-12-31, not {value!r}") from None


def _consent_from(args: argparse.Namespace, base: Any) -> Any:
    from dataclasses import replace

    changes: dict[str, Any] = {}
    for what in ("face", "voice", "name"):
        raw = getattr(args, f"consent_{what}")
        if raw is not None:
            changes[what] = _yes_no(raw, f"--consent-{what}")
    if args.consent_language is not None:
        changes["languages"] = tuple(x.strip() for x in args.consent_language if x.strip())
    if args.consent_platform is not None:
        changes["platforms"] = tuple(x.strip() for x in args.consent_platform if x.strip())
    if args.consent_expires is not None:
        changes["expires"] = _date(args.consent_expires) if args.consent_expires else None
    return replace(base, **changes)


def _interviewee_add(args: argparse.Namespace) -> int:
    from clips_metadata.stored_records import Consent

    consent = _consent_from(args, Consent())
    from flows.services.registry import edit_identifying_words

    words = edit_identifying_words((), args.identifying_word or ())
    with open_store(args) as (_, store):
        p = store.add_interviewee(
            args.pseudonym,
            real_names=args.real_name or (),
            identifying_words=words,
            is_public=bool(args.public),
            consent=consent,
            notes=args.notes or "",
        )
    print(f"added interviewee {p.pseudonym!r} (id {p.id}); consent: {_consent_text(p.consent)}")
    return 0


def _interviewee_set(args: argparse.Namespace) -> int:
    from flows.cli.auth import shell_actor
    from flows.services.publishing import narrow_consent
    from flows.services.registry import edit_identifying_words

    with open_store(args) as (workspace, store):
        current = store.get_interviewee(args.pseudonym)
        words = None
        if args.identifying_word or args.remove_identifying_word:
            words = edit_identifying_words(current.identifying_words, args.identifying_word or (),
                                           args.remove_identifying_word or ())
        p = store.update_interviewee(
            args.pseudonym,
            real_names=args.real_name,
            identifying_words=words,
            is_public=args.public,
            consent=_consent_from(args, current.consent),
            notes=args.notes,
        )
        result = narrow_consent(store, workspace, current, p, reason=args.reason, actor=shell_actor())
    print(f"updated {p.pseudonym!r}; consent: {_consent_text(p.consent)}")
    if result is not None:
        _print_withdrawal(result)
    return 0


def _interviewee_withdraw(args: argparse.Namespace) -> int:
    from flows.cli.auth import shell_actor
    from flows.services.publishing import withdraw_consent

    with open_store(args) as (workspace, store):
        actor = shell_actor()
        if args.actor:
            from clips_metadata.review_store import ReviewStore
            from flows.cli.auth import authenticate

            actor = authenticate(ReviewStore(store), args.actor, args.password_file).name
        result = withdraw_consent(store, workspace, args.pseudonym, reason=args.reason, actor=actor)
    print(f"{result.pseudonym} withdrew consent; exports of their clips are refused from now on")
    _print_withdrawal(result)
    return 0


def _print_withdrawal(result: Any) -> None:
    print(f"no longer covered: {', '.join(result.narrowed)}; voided {result.approvals_voided} approval(s) "
          f"on {len(result.candidates)} candidate(s) and {len(result.exports_voided)} export(s); "
          f"{result.open_publications} publication(s) to take down")
    print(f"takedown list: {result.csv_path}")
    print(f"takedown list: {result.json_path}")


def _interviewee_show(args: argparse.Namespace) -> int:
    with open_store(args) as (_, store):
        p = store.get_interviewee(args.pseudonym)
    if args.json:
        print(json.dumps(_interviewee_json(p), ensure_ascii=False, indent=2))
        return 0
    print(f"{p.id:>4}  {p.pseudonym}{' public' if p.is_public else ''}  consent: {_consent_text(p.consent)}")
    print("  real names:       " + (", ".join(p.real_names) or "(none)"))
    print("  identifying words:" + ("" if p.identifying_words else " (none)"))
    for spec in p.identifying_words:
        print(f"    {spec}")
    return 0


def _interviewee_list(args: argparse.Namespace) -> int:
    with open_store(args) as (_, store):
        people = store.list_interviewees()
    return print_listing(people, as_json=args.json, to_json=_interviewee_json, line=_interviewee_line,
                         empty="no interviewees yet; add one with `counterclips interviewee add PSEUDONYM`")


def _interviewee_line(p: Any) -> str:
    public = " public" if p.is_public else ""
    return f"{p.id:>4}  {p.pseudonym}{public}  consent: {_consent_text(p.consent)}"


def _interviewee_assign(args: argparse.Namespace) -> int:
    with open_store(args) as (_, store):
        iv = store.assign_interview(args.interview, args.pseudonym)
    print(f"interview {iv.id} now belongs to {iv.pseudonym!r}")
    return 0


def _interviewee_json(p: Any) -> dict[str, Any]:
    c = p.consent
    return {
        "id": p.id,
        "pseudonym": p.pseudonym,
        "real_names": list(p.real_names),
        "identifying_words": list(p.identifying_words),
        "is_public": p.is_public,
        "consent": {
            "face": c.face,
            "voice": c.voice,
            "name": c.name,
            "languages": list(c.languages),
            "platforms": list(c.platforms),
            "expires": c.expires.isoformat() if c.expires else None,
        },
        "unassigned": p.is_unassigned,
    }


def _consent_text(c: Any) -> str:
    yn = {True: "yes", False: "no"}
    langs = ",".join(c.languages) or "none"
    plats = ",".join(c.platforms) or "none"
    exp = c.expires.isoformat() if c.expires else "no expiry"
    return (
        f"face {yn[c.face]}, voice {yn[c.voice]}, name {yn[c.name]}, "
        f"languages {langs}, platforms {plats}, {exp}"
    )


def _ingest(args: argparse.Namespace) -> int:
    from flows.services.ingesting import IngestOptions, ingest_media
    from pipeline.transcribe import TranscribeOptions

    topts = TranscribeOptions(
        backend=args.backend,
        model=args.model,
        language=args.language or None,
        translate=not args.no_translate,
    )
    from pipeline.speakers import DiarizeOptions

    options = IngestOptions(
        transcribe=topts, language=args.language or "", recorded=args.recorded, place=args.place,
        diarize=DiarizeOptions(num_speakers=args.speakers), interviewer_first=args.interviewer_first,
    )

    def progress(step: str, message: str) -> None:
        if not args.json:
            print(f"[{step}] {message}", file=sys.stderr, flush=True)

    with open_store(args) as (workspace, store):
        result = ingest_media(store, workspace, args.media, args.interviewee, options, progress=progress)
    if args.json:
        print(
            json.dumps(
                {
                    "interview": result.interview.id,
                    "sha256": result.interview.sha256,
                    "created": result.created,
                    "steps_run": list(result.steps_run),
                    "candidates": [c.to_json() for c in result.candidates],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    iv = result.interview
    what = "ingested" if result.steps_run else "already ingested"
    print(
        f"{what}: interview {iv.id} ({iv.pseudonym}, {iv.language or '?'}, {iv.duration:.1f} s), "
        f"{len(result.candidates)} candidates"
    )
    for c in result.candidates:
        print(_candidate_line(c))
    return 0


def _candidates(args: argparse.Namespace) -> int:
    with open_store(args) as (_, store):
        found = store.list_candidates(
            status=args.status,
            interview_id=args.interview,
            theme=args.theme,
            risk=args.risk,
            limit=args.limit,
        )
    return print_listing(found, as_json=args.json, to_json=lambda c: c.to_json(), line=_candidate_line,
                         empty="no candidates")


def _clock(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:04.1f}"


def _candidate_line(c: Any) -> str:
    risks = f"  risks: {', '.join(c.risks)}" if c.risks else ""
    return (
        f"#{c.id:<5} {c.status:<17} interview {c.interview_id} ({c.pseudonym})  "
        f"{_clock(c.start)}–{_clock(c.end)} ({c.end - c.start:.0f} s)  rank {c.rank:.2f}  "
        f"themes: {', '.join(c.themes) or '-'}{risks}"
    )
