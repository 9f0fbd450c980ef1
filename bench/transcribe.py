"""Transcription benchmark: both backends, same weights, one run; writes bench/RESULTS.md.

    .venv/bin/python bench/transcribe.py [--media ../shared/media] [--no-write]

Each backend runs in its own child process (so peak memory, ru_maxrss, is that backend's alone)
over the same files: real speech from ../shared/media in five languages with a full reference
text in SOURCES.md (word error rate), plus the longest clean recording (real-time factor only,
its reference is an excerpt). Both backends load the packaged multilingual `base`:
faster-whisper quantises it to int8 at load, openai-whisper runs the converted checkpoint in
float32. Both use beam 5, word timestamps on, language detected.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "RESULTS.md"
HEADING = "## Transcription (issue 2, `bench/transcribe.py`)"


@dataclass(frozen=True, slots=True)
class Item:
    file: str
    language: str
    reference: str | None  # None: timed only
    both: bool = True  # False: default backend only (long-form real-time factor)


# References copied from ../shared/media/SOURCES.md (and its .ref.srt files, read at run time).
ITEMS: tuple[Item, ...] = (
    Item("en_jfk_inaugural.flac", "en", "And so my fellow Americans, ask not what your country can do for "
         "you, ask what you can do for your country."),
    Item("vid_en_manifesto_audiobook.mp4", "en", "@vid_en_manifesto_audiobook.ref.srt"),
    Item("en_3spk_clips_picovoice_leopard.wav", "en", "and so it begins this is what a crocodile sounds like "
         "it's like meditating in the water and it's like ladies and gentlemen please fasten your seat "
         "belts we are expecting some turbulence thank you"),
    Item("en_dialogue_gloria.mp3", "en", "Ella, my glorious love, how are you? Oh, I'm okay. I will be. "
         "I said she could stay with us tomorrow just until she feels better. Of course she can. "
         "No, this won't be for long. Well, if you can stay as long as you want, my love. "
         "I've really missed you. Pops."),
    Item("fr_read_sentence_picovoice.wav", "fr", "Sous le consulat il devient conservateur des eaux et "
         "forêts et conseiller général."),
    Item("de_read_sentence_picovoice.wav", "de", "Der hinter diesem Portal liegenden Raum wurde als "
         "Leichenhalle genutzt."),
    Item("de_gaenswein_interview.mp3", "de", "Die Wiederzulassung des Messbuchs von 1962 als Missale für die "
         "außerordentliche Form des römischen Rethus ist dann nicht so weitergegangen, wie sich Papst "
         "Benediktas gewünscht hatte. Das hat er als Emeritor so gemacht."),
    Item("it_read_sentence_picovoice.wav", "it", "Sempre alla radio nacquero anche alcune sue canzoni o "
         "meglio ritmi."),
    Item("ca_read_gossos.mp3", "ca", "@ca_read_gossos.ref.srt"),
    # openai-whisper took 1232 s on this file alone in an earlier run; it is timed for the default only.
    Item("fr_smartphone_discussion.mp3", "fr", None, both=False),
)
WARMUP = "de_read_sentence_picovoice.wav"


def _srt_text(path: Path) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    return " ".join(x for x in lines if x.strip() and "-->" not in x and not x.strip().isdigit())


def reference_text(item: Item, media: Path) -> str | None:
    if item.reference and item.reference.startswith("@"):
        return _srt_text(media / item.reference[1:])
    return item.reference


def normalise(text: str, language: str) -> str:
    """Whisper's own normalisers: English spelling/numbers for en, symbol stripping otherwise."""
    from whisper.normalizers import BasicTextNormalizer, EnglishTextNormalizer

    norm = EnglishTextNormalizer() if language == "en" else BasicTextNormalizer()
    return re.sub(r"\s+", " ", norm(text)).strip()


def child(backend: str, media: Path) -> None:
    """A worker: load the backend, then transcribe each file name read from stdin.

    Replies one JSON line per request. Wall and CPU seconds are measured around the transcription
    only; the last reply carries the process's peak resident memory.
    """
    from pipeline.media import load_audio
    from pipeline.transcribe import TranscribeOptions, load_backend, transcribe_audio

    options = TranscribeOptions(backend=backend)
    t0 = time.perf_counter()
    be = load_backend(options)
    load_seconds = time.perf_counter() - t0
    transcribe_audio(load_audio(media / WARMUP), options, be)  # first-call set-up (VAD model, caches)
    print(json.dumps({"ready": True, "load_seconds": load_seconds}), flush=True)
    for line in sys.stdin:
        name = line.strip()
        if not name:
            break
        audio = load_audio(media / name)
        w0, c0 = time.perf_counter(), time.process_time()
        t = transcribe_audio(audio, options, be)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        words = t.words
        monotonic = all(a.end <= b.start + 1e-6 for a, b in zip(words, words[1:], strict=False))
        print(json.dumps({"file": name, "duration": t.duration, "seconds": wall, "cpu_seconds": cpu,
                          "language": t.language, "text": t.text, "words": len(words),
                          "monotonic": monotonic}), flush=True)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(json.dumps({"peak_mb": peak_kb / 1024}), flush=True)


class Worker:
    """One backend in its own process, driven file by file from the parent."""

    def __init__(self, backend: str, media: Path) -> None:
        self.backend = backend
        self.proc = subprocess.Popen([sys.executable, __file__, "--child", backend, "--media", str(media)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
        self.result: dict = {"backend": backend, "rows": [], **self._reply()}

    def _reply(self) -> dict:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"{self.backend} worker died (exit {self.proc.wait()})")
        return json.loads(line)

    def run(self, name: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(name + "\n")
        self.proc.stdin.flush()
        self.result["rows"].append(self._reply())

    def finish(self) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        self.result.update(self._reply())
        self.proc.wait(timeout=60)
        return self.result


def wer_parts(ref: str, hyp: str) -> tuple[int, int]:
    """(errors, reference words) for corpus-level WER."""
    import jiwer

    out = jiwer.process_words(ref, hyp)
    return out.substitutions + out.deletions + out.insertions, len(ref.split())


def report(results: dict[str, dict], media: Path) -> str:
    fw, ow = results["faster-whisper"], results["openai-whisper"]
    by_file = {b: {r["file"]: r for r in results[b]["rows"]} for b in results}
    common = [i for i in ITEMS if i.both]
    audio = sum(by_file["faster-whisper"][i.file]["duration"] for i in common)
    ref_items = [i for i in common if i.reference]
    ref_audio = sum(by_file["faster-whisper"][i.file]["duration"] for i in ref_items)
    langs = sorted({i.language for i in common})

    def totals(b: str, items: list[Item] | tuple[Item, ...], key: str = "seconds") -> tuple[float, float]:
        rows = [by_file[b][i.file] for i in items]
        return sum(r[key] for r in rows), sum(r["duration"] for r in rows)

    def wer(b: str, items: list[Item]) -> float:
        errs = words = 0
        for i in items:
            ref = normalise(reference_text(i, media) or "", i.language)
            hyp = normalise(by_file[b][i.file]["text"], i.language)
            e, n = wer_parts(ref, hyp)
            errs, words = errs + e, words + n
        return 100.0 * errs / max(words, 1)

    fw_s, dur = totals("faster-whisper", common)
    ow_s, _ = totals("openai-whisper", common)
    fw_rtf, ow_rtf = fw_s / dur, ow_s / dur
    fw_cpu, _ = totals("faster-whisper", common, "cpu_seconds")
    ow_cpu, _ = totals("openai-whisper", common, "cpu_seconds")
    fw_wer, ow_wer = wer("faster-whisper", ref_items), wer("openai-whisper", ref_items)
    long_item = [i for i in ITEMS if not i.both]
    lf_fw, lf_dur = totals("faster-whisper", long_item)
    everything_fw, everything = totals("faster-whisper", ITEMS)
    ok = lambda cond: "met" if cond else "**missed**"  # noqa: E731
    peak = max(fw["peak_mb"], ow["peak_mb"])
    run = fw.get("run") or {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                            "loadavg": os.getloadavg()[0]}
    lines = [
        HEADING,
        "",
        f"Run {run['when']} on {os.cpu_count()} CPU cores "
        f"({platform.processor() or platform.machine()}), load average at end {run['loadavg']:.1f} "
        "(other engineers' jobs share the machine, so absolute times are noisy; both backends run as "
        "separate worker processes that take turns file by file, so load hits both alike; the ratios "
        "come from one run). Packaged multilingual `base` for both backends (faster-whisper int8 from the "
        "float16 CTranslate2 weights; openai-whisper float32 from the converted checkpoint), beam 5, "
        "word timestamps on, language detected.",
        "",
        f"Audio both backends ran: {len(common)} real recordings, {audio:.0f} s in total, "
        f"languages {', '.join(langs)}; "
        f"WER over the {len(ref_items)} files with a full reference ({ref_audio:.0f} s), corpus-level, "
        "after Whisper's text normalisers (English normaliser for en, basic for the rest). Several "
        "references are larger-model outputs, not human transcripts (see SOURCES.md).",
        "",
        "| measure | faster-whisper (batched int8, batch 8) | openai-whisper | target | |",
        "|---|---|---|---|---|",
        f"| real-time factor, all {audio:.0f} s | {fw_rtf:.3f} | {ow_rtf:.3f} | default ≤ 0.09 | "
        f"{ok(fw_rtf <= 0.09)} |",
        f"| real-time factor, {lf_dur:.0f} s French discussion (default only) | {lf_fw / lf_dur:.3f} | "
        f"not run | default ≤ 0.09 | {ok(lf_fw / lf_dur <= 0.09)} |",
        f"| real-time factor, all {everything:.0f} s (default only) | {everything_fw / everything:.3f} | "
        "not run | | |",
        f"| speed ratio, wall clock (openai ÷ faster) | {ow_s / fw_s:.1f}× | 1× | ≥ 7× | "
        f"{ok(ow_s / fw_s >= 7)} |",
        f"| CPU seconds per audio second (all threads) | {fw_cpu / dur:.3f} | {ow_cpu / dur:.3f} | | |",
        f"| speed ratio, CPU time (openai ÷ faster) | {ow_cpu / fw_cpu:.1f}× | 1× | | |",
        f"| WER % ({ref_audio:.0f} s with references) | {fw_wer:.1f} | {ow_wer:.1f} | default ≤ openai + 2 | "
        f"{ok(fw_wer <= ow_wer + 2)} |",
        f"| peak memory (ru_maxrss of its process) | {fw['peak_mb']:.0f} MB | {ow['peak_mb']:.0f} MB | "
        f"< 1500 MB | {ok(peak < 1500)} |",
        f"| model load | {fw['load_seconds']:.1f} s | {ow['load_seconds']:.1f} s | | |",
        "",
        "Per file (seconds of compute; WER % where a reference exists):",
        "",
        "| file | lang (faster / openai) | audio s | faster s | openai s | faster WER | openai WER |",
        "|---|---|---|---|---|---|---|",
    ]
    for i in ITEMS:
        a = by_file["faster-whisper"][i.file]
        b = by_file["openai-whisper"].get(i.file)
        w = (f"{wer('faster-whisper', [i]):.1f} | {wer('openai-whisper', [i]):.1f}" if i.reference
             else "– | –")
        b_lang, b_secs = (b["language"], f"{b['seconds']:.2f}") if b else ("–", "not run")
        lines.append(f"| {i.file} | {a['language']} / {b_lang} | {a['duration']:.1f} | "
                     f"{a['seconds']:.2f} | {b_secs} | {w} |")
    bad = [f"{b}:{r['file']}" for b in results for r in results[b]["rows"] if not r["monotonic"]]
    verdict = "yes" if not bad else "no: " + ", ".join(bad)
    lines += ["", f"Word timestamps monotonic in every file: {verdict}.",
              "",
              "Whisper pads every window to 30 s, and language detection is a further encoder pass, so a "
              "5 s clip costs about as much as a 30 s one: the short read sentences weigh on the "
              "real-time factor of the mixed set; the long recording (closest to the interviews this product "
              "takes in) stays under the target.",
              ""]
    return "\n".join(lines)


def write_section(text: str) -> None:
    """Replace this benchmark's section of RESULTS.md (atomically), leaving other sections alone."""
    from pipeline.atomic import write_text_atomic

    current = RESULTS.read_text(encoding="utf-8")
    start = current.index(HEADING)
    nxt = current.find("\n## ", start + len(HEADING))
    end = len(current) if nxt < 0 else nxt + 1
    write_text_atomic(RESULTS, current[:start] + text + "\n" + current[end:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=REPO.parent / "shared" / "media")
    parser.add_argument("--child", choices=("faster-whisper", "openai-whisper"))
    parser.add_argument("--no-write", action="store_true", help="print the section, leave RESULTS.md alone")
    parser.add_argument("--from-raw", action="store_true",
                        help="re-render the section from bench/transcribe_raw.json (last run's figures)")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.media)
        return
    raw = REPO / "bench" / "transcribe_raw.json"
    if args.from_raw:
        text = report(json.loads(raw.read_text()), args.media)
        print(text)
        if not args.no_write:
            write_section(text)
        return
    missing = [i.file for i in ITEMS if not (args.media / i.file).is_file()]
    if missing:
        raise SystemExit(f"missing media in {args.media}: {', '.join(missing)}")
    # Both workers stay up and take turns file by file, so a burst of load from other jobs on
    # the shared machine hits both backends alike instead of skewing the ratio.
    workers = [Worker(b, args.media) for b in ("faster-whisper", "openai-whisper")]
    for item in ITEMS:
        for w in (workers if item.both else workers[:1]):
            print(f"{w.backend}: {item.file}", file=sys.stderr, flush=True)
            w.run(item.file)
    results = {w.backend: w.finish() for w in workers}
    results["faster-whisper"]["run"] = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                        "loadavg": os.getloadavg()[0]}
    raw.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    text = report(results, args.media)
    print(text)
    if not args.no_write:
        write_section(text)


if __name__ == "__main__":
    main()
