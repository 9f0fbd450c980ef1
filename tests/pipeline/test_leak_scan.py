"""`scan_for_terms` finds a registry term in any Unicode variant in file names, text and raw bytes,
and the manifest helpers keep notes and file names out."""

from __future__ import annotations

from pipeline.render.manifest import neutral_source_id, scan_for_terms, without_notes

TERMS = ["Yusuf Darwish", "Mosul"]


def test_every_variant_is_found(tmp_path):
    (tmp_path / "interview_Yusuf_Darwish_full.mp4").write_bytes(b"\x00\x01")
    (tmp_path / "a.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nMy cousin Yú\u00adsuf\nDarwish\n")
    (tmp_path / "b.json").write_text('{"note": "ＭＯＳＵＬ"}', encoding="utf-8")
    (tmp_path / "c.bin").write_bytes(b"\x00\x00moov" + "mosul".encode("utf-16-le") + b"\x00")
    (tmp_path / "d.bin").write_bytes(b"udta\xa9nam" + b"YUSUF DARWISH" + b"\x00")
    found = {(f.path.name, f.term_index) for f in scan_for_terms([tmp_path], TERMS)}
    assert ("interview_Yusuf_Darwish_full.mp4", 0) in found
    assert ("a.srt", 0) in found
    assert ("b.json", 1) in found
    assert ("c.bin", 1) in found
    assert ("d.bin", 0) in found


def test_clean_outputs_give_no_finding(tmp_path):
    (tmp_path / "candidate-1-v1-master-en.en.srt").write_text("My cousin, his cousin, paid a smuggler.\n")
    (tmp_path / "manifest.json").write_text('{"source": {"id": "source-abc"}, "text": "demo sulfur"}')
    assert scan_for_terms([tmp_path], TERMS) == []


def test_manifest_helpers():
    assert neutral_source_id("ab" * 32) == "source-abababababab"
    cleaned = without_notes({"approvals": [{"reviewer": "rita", "notes": "Yusuf Darwish"}],
                             "audit": ({"who": "sam", "comment": "x", "action": "approve"},)})
    assert cleaned == {"approvals": [{"reviewer": "rita"}], "audit": [{"who": "sam", "action": "approve"}]}
