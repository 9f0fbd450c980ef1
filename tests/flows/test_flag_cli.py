"""`counterclips flag-text` and `counterclips flag`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from flows.cli import main
from flows.cli.flagging_cmd import flags_path

CapSys = pytest.CaptureFixture[str]


def words(start: float, text: str, step: float = 0.4) -> list[dict]:
    out = []
    for i, w in enumerate(text.split()):
        out.append({"start": round(start + i * step, 2), "end": round(start + i * step + 0.3, 2),
                    "text": w, "probability": 0.9})
    return out


def transcript(language: str, sentences: list[tuple[float, str]], translation=None) -> dict:
    segments = [
        {"start": s, "end": s + 0.4 * len(t.split()), "text": t, "words": words(s, t)} for s, t in sentences
    ]
    doc = {
        "source": {"path": "interview.mp4", "sha256": "0" * 64, "duration": 60.0},
        "language": language,
        "backend": "faster-whisper",
        "model": "base",
        "segments": segments,
    }
    if translation:
        doc["translation"] = {
            "language": "en",
            "segments": [{"start": s, "end": e, "text": t} for s, e, t in translation],
        }
    return doc


def test_flag_text_prints_one_json_object_per_line(tmp_path: Path, capsys: CapSys) -> None:
    src = tmp_path / "lines.txt"
    lines = ["Where did you grow up?", "I saw them behead a prisoner in the square."]
    src.write_text(f"{lines[0]}\n\n{lines[1]}\n", encoding="utf-8")
    assert main(["flag-text", str(src), "--cues-only"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in rows] == lines
    assert all(set(r) == {"text", "labels", "scores", "why", "model_version"} for r in rows)
    assert rows[0]["labels"] == [] and rows[1]["labels"] == ["witnessed_brutality"]
    assert re.fullmatch(r'cue "[^"]*behead[^"]*" \(en\)', rows[1]["why"]["witnessed_brutality"])


def test_flag_text_missing_file_is_a_one_line_error(tmp_path: Path, capsys: CapSys) -> None:
    assert main(["flag-text", str(tmp_path / "nope.txt"), "--cues-only"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("counterclips: error: ") and "nope.txt" in err and "\n" not in err


def test_bad_taxonomy_is_a_one_line_error(tmp_path: Path, capsys: CapSys) -> None:
    (tmp_path / "lines.txt").write_text("hello\n", encoding="utf-8")
    (tmp_path / "tax.yaml").write_text("entries: [\n", encoding="utf-8")
    argv = ["flag-text", str(tmp_path / "lines.txt"), "--cues-only", "--taxonomy", str(tmp_path / "tax.yaml")]
    assert main(argv) == 1
    assert "tax.yaml line " in capsys.readouterr().err


def test_flags_path_follows_the_transcript_name(tmp_path: Path) -> None:
    assert flags_path(tmp_path / "int1.transcript.json") == tmp_path / "int1.flags.json"
    assert flags_path(tmp_path / "other.json", tmp_path / "out") == tmp_path / "out" / "other.flags.json"


def test_flag_writes_flags_json_through_the_translation(tmp_path: Path, capsys: CapSys) -> None:
    french = ["J'ai grandi dans un petit village.", "Après la prison, j'y retournerai."]
    doc = transcript(
        "fr",
        [(0.0, french[0]), (4.0, french[1])],
        translation=[
            (0.0, 3.0, "I grew up in a small village."),
            (4.0, 6.0, "After prison I will go back to them."),
        ],
    )
    path = tmp_path / "int1.transcript.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["flag", str(path), "--cues-only"]) == 0
    out = json.loads((tmp_path / "int1.flags.json").read_text(encoding="utf-8"))
    assert "1 credibility warning" in capsys.readouterr().out
    assert [s["text"] for s in out["sentences"]] == french
    assert out["sentences"][0]["labels"] == []
    assert out["sentences"][1]["labels"] == ["intent_to_return"]
    assert out["risk_summary"]["intent_to_return"] == 1
    [warning] = out["credibility_warnings"]
    assert (warning["risk"], warning["sentence_index"], warning["start"]) == ("intent_to_return", 1, 4.0)


@pytest.mark.slow
def test_flag_text_with_the_real_model(tmp_path: Path, capsys: CapSys) -> None:
    src = tmp_path / "lines.txt"
    src.write_text("The emir kept the best house while our children went hungry.\nIt was cold that winter.\n")
    assert main(["flag-text", str(src)]) == 0
    first, second = (json.loads(x) for x in capsys.readouterr().out.splitlines())
    assert "hypocrisy_corruption" in first["labels"] and second["labels"] == []
