"""Must-show (issue 16): on a two-speaker recording, `counterclips ingest` proposes candidates that
contain none of the interviewer's words, and the transcript JSON carries speaker turns.

Real models end to end (Whisper, silero-vad + resemblyzer, the flagger) on a synthetic espeak-ng
interview with known turns (tests/pipeline/speakers_support.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipeline.speakers_support import SCRIPT, espeak_available, make_interview, write_wav

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]

# Longer answers than the support script (two of its answers each), so a clip of the
# interviewee alone can reach the candidate builder's minimum length.
_Q = [t for who, t in SCRIPT if who == "I"]
_A = [t for who, t in SCRIPT if who == "E"]
LONG_SCRIPT = (
    ("I", _Q[0]), ("E", _A[0] + " " + _A[1]),
    ("I", _Q[2]), ("E", _A[2] + " " + _A[3]),
    ("I", _Q[4]), ("E", _A[4] + " " + _A[3]),
)


def _cli(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args, "--workspace", str(ws)],
                          cwd=REPO, capture_output=True, text=True, timeout=1200, check=False,
                          env={**os.environ, "COUNTERCLIPS_HOME": str(ws)})


def _overlap(a: float, b: float, c: float, d: float) -> float:
    return max(0.0, min(b, d) - max(a, c))


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
def test_ingest_keeps_the_interviewer_out_of_candidates_and_labels_the_transcript(tmp_path):
    from clips_metadata.speakers_repo import SpeakersRepo
    from clips_metadata.store import Store

    interview = make_interview(LONG_SCRIPT)
    media = write_wav(tmp_path / "two_voices.wav", interview.audio)
    ws = tmp_path / "ws"
    assert _cli(ws, "interviewee", "add", "Witness K").returncode == 0
    done = _cli(ws, "ingest", str(media), "--interviewee", "Witness K", "--no-translate", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "diarize" in result["steps_run"]

    # The transcript JSON: a speaker on every segment and word, and real turns (two voices, and
    # the voice changes at every question and answer).
    (body_file,) = (ws / "transcripts").glob("*.json")
    body = json.loads(body_file.read_text())
    segments = body["segments"]
    assert segments and all(s["speaker"] for s in segments)
    assert all(w["speaker"] for s in segments for w in s["words"])
    voices = [s["speaker"] for s in segments]
    assert len(set(voices)) == 2
    changes = sum(1 for a, b in zip(voices, voices[1:], strict=False) if a != b)
    assert changes >= len(LONG_SCRIPT) - 2

    store = Store.open(f"sqlite:///{ws / 'counterclips.sqlite3'}")
    try:
        (iv,) = store.list_interviews()
        speakers = SpeakersRepo(store).get(iv.id)
        assert speakers is not None and len(speakers.speakers) == 2
        interviewee = speakers.interviewee
        cands = store.list_candidates(interview_id=iv.id)
        assert cands, "the interviewee's themed answers give at least one candidate"
        words = [w for s in segments for w in s["words"]]
        interviewer_words = [w for w in words if w["speaker"] != interviewee]
        assert interviewer_words
        reference = [(a, b) for a, b, who in interview.turns if who == "I"]
        questions = [t.lower().rstrip("?") for who, t in LONG_SCRIPT if who == "I"]
        for c in cands:
            # No word the diarization gave the interviewer lies inside the clip ...
            assert not [w for w in interviewer_words if _overlap(c.start, c.end, w["start"], w["end"]) > 0]
            # ... nor any of the interviewer's real speech (the reference turns) ...
            assert all(_overlap(c.start, c.end, a, b) < 0.2 for a, b in reference)
            # ... nor any question in the subtitles; a question it needs is a marked card.
            text = " ".join(c.subtitles.values()).lower()
            assert not any(q in text for q in questions)
            card = store.candidate_versions(c.id)[-1].render_options.get("question_card")
            if card is not None:
                assert card["kind"] == "interviewer_question" and card["speaker"] != interviewee
    finally:
        store.close()


def _turns(ws: Path) -> dict[str, object]:
    """What diarization left in a workspace: every word's speaker and times, the interviewee,
    the speaker seconds and the sentences."""
    from clips_metadata.speakers_repo import SpeakersRepo
    from clips_metadata.store import Store

    store = Store.open(f"sqlite:///{ws / 'counterclips.sqlite3'}")
    try:
        (iv,) = store.list_interviews()
        tr = store.latest_transcript(iv.id)
        words = [(w.start, w.end, w.text, w.speaker) for w in store.load_transcript(tr.id).words]
        found = SpeakersRepo(store).get(iv.id)
        assert found is not None
        return {"words": words, "interviewee": found.interviewee, "speakers": found.speakers,
                "sentences": [(s.start, s.end, s.text) for s in store.get_sentences(tr.id)],
                "candidates": [(c.start, c.end) for c in store.list_candidates(interview_id=iv.id)]}
    finally:
        store.close()


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
def test_cli_ingest_diarizes_in_the_idle_helper_with_the_same_turns(tmp_path, monkeypatch):
    """Issue 16: `counterclips ingest` begins the diarization beside Whisper in the idle-time
    helper, as the nightly run does (one home: `ingest_media`), and its turns are those of
    diarizing after Whisper, the path taken before and still taken where no helper can run."""
    from flows.cli import main
    from flows.services import ingesting
    from pipeline import idle_diarization

    monkeypatch.delenv("COUNTERCLIPS_DB_URL", raising=False)
    media = write_wav(tmp_path / "two_voices.wav", make_interview(LONG_SCRIPT).audio)
    begun: list[object] = []
    real_while_idle = ingesting.diarize_while_idle

    def spying_while_idle(audio, options=None):  # noqa: ANN001, ANN202
        begun.append(real_while_idle(audio, options))
        return begun[-1]

    def ingest(ws: Path) -> dict[str, object]:
        assert main(["interviewee", "add", "Witness K", "--workspace", str(ws)]) == 0
        assert main(["ingest", str(media), "--interviewee", "Witness K", "--no-translate",
                     "--workspace", str(ws)]) == 0
        return _turns(ws)

    monkeypatch.setattr(ingesting, "diarize_beside", lambda: False)  # the 2-3 core path here too
    monkeypatch.setattr(ingesting, "diarize_while_idle", spying_while_idle)
    idle = ingest(tmp_path / "idle")
    assert len(begun) == 1 and begun[0] is not None, "the helper took the file before Whisper"

    monkeypatch.setattr(idle_diarization.HELPER, "begin", lambda *_a, **_k: None)  # no helper here
    begun.clear()
    after = ingest(tmp_path / "after")
    assert begun == [None]
    assert len(set(w[3] for w in after["words"])) == 2  # type: ignore[index, union-attr]
    assert idle == after
