"""Builds the issue-15 evaluation splits from the authoring files in src/ (one item a line:
`CODES|english[|french|arabic]`, CODES comma-separated label codes or `-` for neutral talk).

A sentence goes to the sealed test split when the first byte of the SHA-256 of its English text
is even; its translations follow it. Deterministic: re-running writes the same files.

    .venv/bin/python bench/eval/build.py
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
CODES = {
    "WB": "witnessed_brutality", "HC": "hypocrisy_corruption", "FP": "false_promises",
    "MW": "mistreatment_within", "CF": "coercion_fear", "DE": "disillusionment_exit",
    "WO": "warning_to_others", "PA": "pro_group_advocacy", "MG": "martyrdom_glorification",
    "JV": "justifies_violence", "IR": "intent_to_return", "SI": "self_incrimination",
    "ID": "identifying_details",
}  # fmt: skip


def authored_lines(folder: str) -> Iterator[tuple[Path, int, list[str], str, list[str]]]:
    """Each non-blank line of the folder's authoring files: (file, line number, labels, English,
    the texts after it)."""
    for src in sorted((HERE / folder).glob("*.txt")):
        for n, line in enumerate(src.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                codes, english, *texts = line.split("|")
                yield src, n, [] if codes == "-" else [CODES[c] for c in codes.split(",")], english, texts


def build() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {"dev": [], "test": []}
    for src, n, labels, english, translations in authored_lines("src"):
        digest = hashlib.sha256(english.encode("utf-8")).digest()
        split = "test" if digest[0] % 2 == 0 else "dev"
        base = f"{src.stem}-{n:03d}"
        out[split].append({"id": base, "language": "en", "text": english, "labels": labels})
        for lang, text in zip(("fr", "ar"), translations, strict=False):
            item = {"id": f"{base}-{lang}", "language": lang, "text": text, "labels": labels}
            out[split].append(item | {"source_id": base})
    return out


def build_sealed2(folder: str = "src2", prefix: str = "t2") -> list[dict]:
    """A later sealed split (src2/, src3/: each written after the previous one was run): every
    item is test. From src9/ a line may end with the Arabic's variety (`msa`, `levantine`,
    `iraqi`, `egyptian`), kept on the Arabic row so figures can be split by dialect."""
    out: list[dict] = []
    for src, n, labels, english, texts in authored_lines(folder):
        base = f"{prefix}-{src.stem}-{n:03d}"
        translations, variety = (texts[:2], texts[2]) if len(texts) == 3 else (texts, None)
        out.append({"id": base, "language": "en", "text": english, "labels": labels})
        for lang, text in zip(("fr", "ar"), translations, strict=False):
            item = {"id": f"{base}-{lang}", "language": lang, "text": text, "labels": labels,
                    "source_id": base}
            out.append(item | {"variety": variety} if lang == "ar" and variety else item)
    return out


def build_translations(
    folder: str = "tr5", sources: tuple[str, ...] = (), languages: tuple[str, ...] = ("fr", "ar")
) -> list[dict]:
    """Training-only translations of English sentences already in the retired splits (`tr5/`:
    `CODES|english|french|arabic`; `tr6/`: `CODES|english|arabic`, the English verbatim): each row
    takes its original's id as `source_id`, so it shares its original's fold out of fold."""
    originals: dict[str, dict] = {}
    for name in sources:
        for line in (HERE / name).read_text(encoding="utf-8").splitlines():
            x = json.loads(line)
            if x["language"] == "en":
                originals.setdefault(x["text"], x)
    out: list[dict] = []
    for src, n, labels, english, texts in authored_lines(folder):
        if len(texts) != len(languages):
            raise ValueError(f"{src.name}:{n}: expected {len(languages)} translations")
        original = originals.get(english)
        if original is None or original["labels"] != labels:
            raise ValueError(f"{src.name}:{n}: not a retired English sentence with these labels")
        for lang, text in zip(languages, texts, strict=True):
            out.append({"id": f"{folder}-{original['id']}-{lang}", "language": lang, "text": text,
                        "labels": labels, "source_id": original["id"]})
    return out


# The flagger's packaged training rows (pipeline/themes/data/interview_exemplars.jsonl): the dev
# split, the retired sealed splits 1-8 (their runs are recorded), rows written for weak labels and
# the French and Arabic translations of retired sentences (tr5/, and Arabic only: tr6/, tr7/, and
# in spoken Iraqi and Egyptian Arabic tr8/). Never the current sealed split
# (themes_real_test9.jsonl). Refit the shipped heads after a change: `python -m pipeline.themes.heads`.
EXEMPLAR_FILES = ("themes_real_dev.jsonl", "themes_real_test.jsonl", "extra_si_id.jsonl",
                  "themes_real_test2.jsonl", "themes_real_test3.jsonl", "themes_real_test4.jsonl",
                  "themes_real_tr5.jsonl", "themes_real_test5.jsonl", "themes_real_tr6.jsonl",
                  "themes_real_test6.jsonl", "themes_real_tr7.jsonl", "themes_real_test7.jsonl",
                  "themes_real_test8.jsonl", "themes_real_tr8.jsonl")
EXEMPLARS = HERE.parent.parent / "pipeline" / "themes" / "data" / "interview_exemplars.jsonl"


def write_exemplars() -> None:
    text = "".join((HERE / name).read_text(encoding="utf-8") for name in EXEMPLAR_FILES)
    EXEMPLARS.write_text(text, encoding="utf-8")
    print(f"{EXEMPLARS.name}: {len(text.splitlines())} rows")


def main() -> None:
    splits = build() | {"test2": build_sealed2(), "test3": build_sealed2("src3", "t3"),
                       "test4": build_sealed2("src4", "t4"), "test5": build_sealed2("src5", "t5"),
                       "test6": build_sealed2("src6", "t6"), "test7": build_sealed2("src7", "t7"),
                       "test8": build_sealed2("src8", "t8"), "test9": build_sealed2("src9", "t9")}
    retired = ("themes_real_dev.jsonl", "themes_real_test.jsonl", "themes_real_test2.jsonl",
               "themes_real_test3.jsonl", "themes_real_test4.jsonl")
    for split, items in splits.items():
        path = HERE / f"themes_real_{split}.jsonl"
        path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in items), encoding="utf-8")
        langs = {lang: sum(x["language"] == lang for x in items) for lang in ("en", "fr", "ar")}
        neutral = sum(not x["labels"] for x in items if x["language"] == "en")
        print(f"{path.name}: {len(items)} items {langs}, {neutral} neutral English")
    tr = build_translations("tr5", retired)
    (HERE / "themes_real_tr5.jsonl").write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in tr), encoding="utf-8")
    print(f"themes_real_tr5.jsonl: {len(tr)} translations of retired English sentences (training only)")
    tr = build_translations("tr6", (*retired, "themes_real_test5.jsonl"), ("ar",))
    (HERE / "themes_real_tr6.jsonl").write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in tr), encoding="utf-8")
    print(f"themes_real_tr6.jsonl: {len(tr)} Arabic translations of retired sentences (training only)")
    tr = build_translations("tr7", (*retired, "themes_real_test5.jsonl", "themes_real_test6.jsonl"), ("ar",))
    (HERE / "themes_real_tr7.jsonl").write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in tr), encoding="utf-8")
    print(f"themes_real_tr7.jsonl: {len(tr)} Arabic translations of retired sentences (training only)")
    tr = build_translations("tr8", (*retired, "themes_real_test5.jsonl", "themes_real_test6.jsonl",
                                    "themes_real_test7.jsonl"), ("ar",))
    (HERE / "themes_real_tr8.jsonl").write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in tr), encoding="utf-8")
    print(f"themes_real_tr8.jsonl: {len(tr)} spoken-Arabic translations of retired sentences (training only)")
    write_exemplars()


if __name__ == "__main__":
    main()
