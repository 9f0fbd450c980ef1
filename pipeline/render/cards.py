"""Title and end cards, composed with moviepy as still frames (off the per-frame path): a dark
background with centred lines of text in the bundled font. The render graph shows each for a few
seconds with fades and joins it to the clip with `concat`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import RenderError
from pipeline.render.subs import FONTS_DIR

CARD_FONT = FONTS_DIR / "NotoSans-Bold.ttf"


@dataclass(frozen=True, slots=True)
class CardText:
    """What a card says, one entry per line (e.g. pseudonym, "Country, 2019", the organisation's
    line), and for how long it is shown (seconds)."""

    lines: tuple[str, ...]
    duration: float = 3.0


def title_card(pseudonym: str, country: str = "", year: str | int = "", duration: float = 3.0) -> CardText:
    place = ", ".join(str(x) for x in (country, year) if str(x).strip())
    return CardText(tuple(x for x in (pseudonym, place) if x), duration)


def end_card(organisation_line: str, duration: float = 3.0) -> CardText:
    return CardText((organisation_line,), duration)


def make_card_image(card: CardText, width: int, height: int, path: Path) -> Path:
    """Compose `card` at `width`x`height` with moviepy and save it as a PNG at `path`."""
    from moviepy import ColorClip, CompositeVideoClip, TextClip

    text = "\n".join(line for line in card.lines if line.strip())
    if not text:
        raise RenderError("a card needs at least one line of text")
    size = max(16, round(min(width, height) * 0.06))
    try:
        background = ColorClip((width, height), color=(16, 18, 24), duration=card.duration)
        caption = TextClip(
            font=str(CARD_FONT), text=text, font_size=size, color="white", method="caption",
            size=(round(width * 0.84), None), text_align="center", interline=round(size * 0.4),
            margin=(0, size),  # moviepy measures caption height tightly and clips descenders
            duration=card.duration,
        ).with_position("center")
        composite = CompositeVideoClip([background, caption], size=(width, height))
        composite.save_frame(str(path), t=0)
        composite.close()
    except (OSError, ValueError) as exc:
        raise RenderError(f"cannot compose card {text!r}: {exc}") from exc
    return path


QUESTION_LABEL = "Interviewer's question:"


def question_card(text: str, duration: float | None = None) -> CardText:
    """The interviewer's question a clip needs, marked as the interviewer's (issue 16). Shown
    long enough to read (about 12 characters a second, 2.5 s at least) unless `duration`."""
    from pipeline.render.redaction import wrap_lines

    body = " ".join(text.split())
    if duration is None:
        duration = round(max(2.5, min(8.0, 1.0 + len(body) / 12.0)), 1)
    return CardText((QUESTION_LABEL, *wrap_lines(body, 42, 4)), duration)
