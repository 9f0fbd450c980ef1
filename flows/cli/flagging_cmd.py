"""`counterclips flag-text FILE` and `counterclips flag TRANSCRIPT_JSON` (issue 3)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.errors import CounterclipsError


class FlagInputError(CounterclipsError):
    """The file to flag cannot be read."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "flag-text",
        help="flag sentences, one per line; print one JSON object per line",
        description="Read one sentence per line (FILE, or - for standard input) and print "
        '{"text", "labels", "scores", "why", "model_version"} as one JSON object per line.',
    )
    p.add_argument("file", metavar="FILE", help="text file with one sentence per line, or -")
    p.add_argument("--taxonomy", type=Path, default=None, help="taxonomy YAML (default: the packaged one)")
    p.add_argument("--cues-only", action="store_true", help="no model: cue phrases and names only")
    p.add_argument(
        "--lang", default=None, help="language of the text (en, fr, ar, ...); detected per line if omitted"
    )
    p.set_defaults(func=cmd_flag_text)

    p = sub.add_parser(
        "flag",
        help="flag a transcript JSON; write <stem>.flags.json next to it",
        description="Flag every sentence of a transcript (through its English translation when the "
        "interview is in another language) and write <stem>.flags.json next to it.",
    )
    p.add_argument("transcript", metavar="TRANSCRIPT_JSON", type=Path)
    p.add_argument("--taxonomy", type=Path, default=None, help="taxonomy YAML (default: the packaged one)")
    p.add_argument("--out", type=Path, default=None, help="directory for the flags file (default: beside it)")
    p.add_argument("--cues-only", action="store_true", help="no model: cue phrases and names only")
    p.set_defaults(func=cmd_flag)


def _flagger(args: argparse.Namespace):  # noqa: ANN202 - the type lives behind a lazy import
    from pipeline.themes import Flagger

    if getattr(args, "cues_only", False):
        return Flagger.cues_only(args.taxonomy)
    return Flagger.load(args.taxonomy)


def cmd_flag_text(args: argparse.Namespace) -> int:
    if args.file == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            cause = getattr(exc, "strerror", None) or exc
            raise FlagInputError(f"{args.file}: cannot read ({cause})") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    flagger = _flagger(args)
    for f in flagger.flag_texts(lines, language=args.lang):
        record = {
            "text": f.text, "labels": list(f.labels), "scores": f.scores, "why": f.why,
            "model_version": f.model_version,
        }
        print(json.dumps(record, ensure_ascii=False))
    return 0


def flags_path(transcript: Path, out: Path | None = None) -> Path:
    """`x.transcript.json` -> `x.flags.json` (other `y.json` -> `y.flags.json`), beside it or in `out`."""
    name = transcript.name
    for suffix in (".transcript.json", ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return (out or transcript.parent) / f"{name}.flags.json"


def cmd_flag(args: argparse.Namespace) -> int:
    from pipeline.atomic import write_json_atomic
    from pipeline.themes.document import flag_transcript, flags_to_dict
    from pipeline.transcript_io import read_transcript

    transcript = read_transcript(args.transcript)
    flagger = _flagger(args)
    result = flag_transcript(transcript, flagger)
    target = flags_path(args.transcript, args.out)
    write_json_atomic(target, flags_to_dict(result, flagger, source=str(args.transcript)))
    risky = sum(1 for f in result.flags if any(label in flagger.taxonomy.risk_ids for label in f.labels))
    print(
        f"{target}: {len(result.sentences)} sentences, {risky} with risks, "
        f"{len(result.warnings)} credibility warning(s)"
    )
    return 0
