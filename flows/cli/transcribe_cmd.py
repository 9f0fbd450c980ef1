"""`counterclips transcribe`: one media file in, a word-timed transcript and subtitle files out.

Writes `DIR/<stem>.transcript.json`, `DIR/<stem>.<lang>.srt` and `.vtt`, and with `--translate`
the `en` pair built from Whisper's translation. Heavy imports stay inside `run` so the CLI starts
fast for every other command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import MediaError

if TYPE_CHECKING:
    from pipeline.records import MediaInfo, Transcript

DEFAULT_BACKEND = "faster-whisper"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "transcribe",
        help="transcribe one media file into a transcript JSON and subtitle files",
        description="Transcribe MEDIA offline with Whisper; write <stem>.transcript.json, "
                    "<stem>.<lang>.srt and .vtt (and the English pair with --translate). "
                    "For a file name that starts with a dash, put `--` before it.",
    )
    p.add_argument("media", metavar="MEDIA",
                   help="video or audio file (mp4, mov, mkv, webm, mp3, wav, flac, m4a)")
    p.add_argument("--backend", choices=("faster-whisper", "openai-whisper"), default=DEFAULT_BACKEND,
                   help="transcription backend (default: %(default)s)")
    p.add_argument("--model", default="base", metavar="NAME_OR_PATH",
                   help="model name, CTranslate2 directory or .pt checkpoint (default: packaged base)")
    p.add_argument("--language", metavar="CODE", default=None,
                   help="language code such as en, fr, ar (default: detect)")
    p.add_argument("--translate", action="store_true",
                   help="also write Whisper's English translation (skipped for English audio)")
    p.add_argument("--out", metavar="DIR", default=".", help="output directory (default: current directory)")
    p.set_defaults(func=run)


def _progress_bar(total_hint: float) -> tuple[Callable[[float, float], None] | None, Callable[[], None]]:
    """A tqdm bar on an interactive terminal; nothing when piped or logged."""
    if not sys.stderr.isatty():
        return None, lambda: None
    import os

    from tqdm import tqdm

    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except OSError:
        size = os.terminal_size((0, 0))
    # A terminal that reports a 0×0 size (a fresh pty, some CI runners) makes tqdm print nothing.
    bar = tqdm(total=round(total_hint, 1), unit="s", desc="transcribing", leave=False,
               ncols=size.columns or 80, nrows=size.lines or 20,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}]")

    def update(done: float, total: float) -> None:
        bar.total = round(total, 1)
        bar.n = round(min(done, total), 1)
        bar.refresh()

    return update, bar.close


def write_outputs(transcript: Transcript, media: MediaInfo, out_dir: Path, stem: str) -> list[Path]:
    """Write the transcript JSON, then subtitle files built from word timestamps; return the paths."""
    from pipeline.atomic import PRIVATE, write_json_atomic
    from pipeline.cues import build_cues
    from pipeline.sentences import build_sentences
    from pipeline.subtitles import write_subtitles
    from pipeline.transcript_io import transcript_to_dict

    written = [write_json_atomic(out_dir / f"{stem}.transcript.json", transcript_to_dict(transcript, media),
                                 mode=PRIVATE)]
    tracks = [(transcript.language, transcript.words)]
    if transcript.translation is not None:
        tr_words = tuple(w for s in transcript.translation.segments for w in s.words)
        tracks.append((transcript.translation.language, tr_words))
    for lang, words in tracks:
        cues = build_cues(build_sentences(words, lang))
        for suffix in (".srt", ".vtt"):
            path = out_dir / f"{stem}.{lang}{suffix}"
            write_subtitles(cues, path)
            written.append(path)
    return written


def run(args: argparse.Namespace) -> int:
    from pipeline.media import probe
    from pipeline.transcribe import TranscribeOptions, language_code, load_backend, transcribe

    media_path = Path(args.media)
    media = probe(media_path)  # one-line MediaError for every bad input, before any model loads
    language_code(args.language)
    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MediaError(f"{args.out}: cannot create output directory ({exc.strerror or exc})") from None
    options = TranscribeOptions(backend=args.backend, model=args.model, language=args.language,
                                translate=args.translate)
    backend = load_backend(options)
    progress, close = _progress_bar(media.duration)
    try:
        transcript = transcribe(media_path, options, backend=backend, progress=progress)
    finally:
        close()
    for path in write_outputs(transcript, media, out_dir, media_path.stem):
        print(path)
    if not transcript.segments:
        print(f"counterclips: warning: no speech recognised in {args.media}", file=sys.stderr)
    return 0
