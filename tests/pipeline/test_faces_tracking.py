"""Face spans and blur regions (pure logic): every face seen is covered, disagreement between
samples fails safe to whole-frame blur, manual regions land exactly on their time range."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.render.faces import (
    Box,
    Face,
    FaceSample,
    ManualRegion,
    blur_regions,
    face_spans,
    speaker_centre,
)

W, H = 1280, 720
BIG = Box(500, 100, 200, 260)
OTHER = Box(100, 300, 120, 150)
TINY = Box(1000, 80, 22, 26)  # under SMALL_FACE of a 720-line frame: the fine pass's business


def sample(t: float, *boxes: Box, score: float = 0.9, fine: bool = True) -> FaceSample:
    return FaceSample(t, tuple(Face(b, score) for b in boxes), fine)


def regions_at(regions, t: float):
    return [r for r in regions if r.start <= t < r.end]


def whole_at(regions, t: float) -> bool:
    return any(r.full_frame for r in regions_at(regions, t))


def covers(region, box: Box) -> bool:
    return (region.x <= box.x and region.y <= box.y and region.x + region.width >= box.x + box.width
            and region.y + region.height >= box.y + box.height)


def steady(n: int = 13, every: float = 0.5, *boxes: Box) -> list[FaceSample]:
    return [sample(i * every, *(boxes or (BIG,))) for i in range(n)]


def test_a_steady_face_is_blurred_with_a_margin_and_never_whole_frame():
    regions = blur_regions(steady(), 0.0, 6.0, W, H, padding=0.35)
    assert regions and not any(r.full_frame for r in regions)
    for k in range(600):
        here = regions_at(regions, k / 100)
        assert len(here) == 1 and covers(here[0], Box(500 - 70, 100 - 91, 340, 260 + 2 * 91))


def test_a_face_seen_at_one_sample_only_blurs_the_whole_frame_around_it():
    samples = steady()
    samples[6] = sample(3.0, BIG, OTHER)  # a second face appears for one sample
    regions = blur_regions(samples, 0.0, 6.0, W, H)
    assert whole_at(regions, 2.6) and whole_at(regions, 3.4)
    assert not whole_at(regions, 0.5) and not whole_at(regions, 5.5)


def test_a_second_face_missed_while_the_first_is_found_fails_safe():
    samples = steady(13, 0.5, BIG, OTHER)
    samples[4] = sample(2.0, BIG)  # OTHER lost at one sample while BIG is still found
    spans = face_spans(samples, 0.0, 6.0, H)
    assert [s.whole for s in spans if s.start < 2.5 and s.end > 1.5] == [True, True]
    assert whole_at(blur_regions(samples, 0.0, 6.0, W, H), 1.9)


def test_a_doubtful_score_blurs_the_whole_frame_next_to_it():
    samples = steady()
    samples[8] = sample(4.0, BIG, score=0.3)
    regions = blur_regions(samples, 0.0, 6.0, W, H)
    assert whole_at(regions, 3.8) and whole_at(regions, 4.2) and not whole_at(regions, 1.0)


def test_a_face_that_jumps_between_samples_is_not_taken_for_the_same_face():
    samples = steady()
    samples[5] = sample(2.5, Box(1000, 400, 200, 260))
    assert whole_at(blur_regions(samples, 0.0, 6.0, W, H), 2.4)


def test_no_face_anywhere_is_blurred_whole_unless_fallback_is_off():
    empty = [FaceSample(i * 0.5, ()) for i in range(7)]
    assert all(r.full_frame for r in blur_regions(empty, 0.0, 3.0, W, H))
    assert blur_regions(empty, 0.0, 3.0, W, H, full_frame_fallback=False) == ()
    assert all(r.full_frame for r in blur_regions([], 0.0, 3.0, W, H))


def test_small_faces_are_judged_on_fine_samples_only():
    samples = [sample(i * 0.5, BIG, *((TINY,) if i % 4 == 0 else ()), fine=i % 4 == 0) for i in range(13)]
    regions = blur_regions(samples, 0.0, 6.0, W, H)
    assert not any(r.full_frame for r in regions)
    for k in range(0, 600, 7):  # the tiny face stays covered between fine samples
        assert any(covers(r, TINY) for r in regions_at(regions, k / 100)), k / 100


def test_a_small_face_appearing_on_a_fine_sample_blurs_back_to_the_previous_one():
    samples = [sample(i * 0.5, BIG, *((TINY,) if i == 8 else ()), fine=i % 4 == 0) for i in range(13)]
    regions = blur_regions(samples, 0.0, 6.0, W, H)
    assert whole_at(regions, 2.2) and whole_at(regions, 5.5) and not whole_at(regions, 1.0)


def test_manual_regions_are_exact_in_time_and_use_the_source_clock():
    manual = ManualRegion(10, 20, 100, 50, start=12.25, end=13.5)
    regions = blur_regions([sample(10 + i * 0.5, BIG) for i in range(13)], 10.0, 16.0, W, H, manual=(manual,))
    box = Box(10, 20, 100, 50)
    assert not any(covers(r, box) for r in regions_at(regions, 2.24))
    assert all(any(covers(r, box) for r in regions_at(regions, t)) for t in (2.25, 3.0, 3.49))
    assert not any(covers(r, box) for r in regions_at(regions, 3.5))


def test_a_manual_region_over_the_whole_frame_is_a_full_frame_blur():
    manual = ManualRegion(0, 0, W, H, 1.0, 2.0)
    regions = blur_regions(steady(), 0.0, 6.0, W, H, manual=(manual,))
    assert whole_at(regions, 1.5) and not whole_at(regions, 2.5)


def test_speaker_centre_is_the_median_of_the_largest_sure_faces():
    samples = [sample(0, Box(0, 0, 10, 10), Box(400, 100, 100, 100)), FaceSample(1, ()),
               sample(2, Box(420, 100, 100, 100)), sample(3, Box(0, 0, 900, 900), score=0.3)]
    assert speaker_centre(samples) == (470.0, 150.0)
    assert speaker_centre([FaceSample(0, ())]) is None


box_st = st.builds(lambda x, y, w, h: Box(x, y, w, h), st.integers(0, W - 40), st.integers(0, H - 40),
                   st.integers(8, 400), st.integers(8, 400))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.lists(box_st, max_size=3), st.floats(0.2, 1.0), st.booleans()),
                min_size=1, max_size=25),
       st.floats(0.2, 0.6), st.lists(st.tuples(box_st, st.floats(0, 15), st.floats(0.05, 5)), max_size=3))
def test_every_seen_face_and_manual_region_is_covered_and_windows_partition_the_clip(raw, every, manual):
    samples = [FaceSample(5.0 + i * every, tuple(Face(b, s) for b in boxes), fine)
               for i, (boxes, s, fine) in enumerate(raw)]
    end = 5.0 + len(raw) * every
    manual_regions = [ManualRegion(b.x, b.y, b.width, b.height, 5.0 + a, 5.0 + a + d) for b, a, d in manual]
    regions = blur_regions(samples, 5.0, end, W, H, manual=manual_regions)
    windows = sorted({(r.start, r.end) for r in regions})
    assert windows[0][0] == 0.0 and windows[-1][1] > end - 5.0
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:], strict=False))
    assert all(0 <= r.x and 0 <= r.y and r.x + r.width <= W and r.y + r.height <= H for r in regions)
    for s in samples:
        here = regions_at(regions, round(s.time - 5.0, 3))
        for f in s.faces:
            clipped = Box(f.box.x, f.box.y, min(f.box.width, W - f.box.x), min(f.box.height, H - f.box.y))
            assert any(r.full_frame or covers(r, clipped) for r in here), (s.time, f)
    for m in manual_regions:
        a, b = m.start - 5.0, min(m.end, end) - 5.0
        for t in (a, (a + b) / 2):
            if 0 <= t < b and t < end - 5.0:
                here = regions_at(regions, round(t, 3))
                box = Box(m.x, m.y, min(m.width, W - m.x), min(m.height, H - m.y))
                assert any(r.full_frame or covers(r, box) for r in here), (t, m)


def test_padding_stays_inside_the_frame():
    assert Box(0, 0, 50, 50).padded(0.35, 60, 60) == Box(0, 0, 60, 60)


@pytest.mark.parametrize("score", [0.9, 0.3])
def test_boxes_of_a_sample_are_its_faces(score):
    assert sample(0, BIG, score=score).boxes == (BIG,)


def test_a_picture_changed_only_inside_a_face_box_is_unchanged():
    import numpy as np

    from pipeline.render.faces import picture_changed

    before = np.full((90, 160), 100, np.uint8)
    face = Face(Box(640, 200, 160, 200), 0.9)  # source 1280 wide: thumbnail x 80-100, y 25-50
    inside = before.copy()
    inside[30:45, 82:98] = 200
    assert not picture_changed(before, inside, [face], 1280)
    assert picture_changed(before, inside, [], 1280)
    small = before.copy()
    small[70:73, 10:13] = 160  # a 24 px face entering at the edge: 3x3 thumbnail pixels
    assert picture_changed(before, small, [face], 1280)
    noise = before.copy()
    noise[5, 5] = 130  # one pixel: not a face
    assert not picture_changed(before, noise, [face], 1280)
    assert picture_changed(None, before, [], 1280)


def test_shading_under_the_change_level_is_no_change_and_anything_past_it_is():
    """A talking head's shading moves by up to CHANGE_LEVEL between samples: not a change (the
    detector would re-run around the face at every sample); a step past it is one."""
    import numpy as np

    from pipeline.render.faces import CHANGE_LEVEL, changed_boxes, picture_changed

    before = np.full((90, 160), 100, np.uint8)
    shaded = before.copy()
    shaded[50:80, 20:60] += CHANGE_LEVEL  # a shirt's shading, 30x40 thumbnail pixels
    assert not picture_changed(before, shaded, [], 1280)
    assert changed_boxes(before, shaded, [], 1280, 720) == ()
    stepped = before.copy()
    stepped[60:63, 30:33] += CHANGE_LEVEL + 1
    assert picture_changed(before, stepped, [], 1280)
    assert changed_boxes(before, stepped, [], 1280, 720)


def test_changed_boxes_hold_the_change_with_a_cell_of_context_and_any_face_they_touch():
    import numpy as np

    from pipeline.render.faces import CHANGE_CELL, changed_boxes

    before = np.full((90, 160), 100, np.uint8)
    assert changed_boxes(before, before.copy(), [], 1280, 720) == ()
    corner = before.copy()
    corner[70:73, 10:13] = 160  # a 24 px face entering at the lower left
    (box,) = changed_boxes(before, corner, [], 1280, 720)
    cell = CHANGE_CELL * 8  # source pixels per cell
    assert box.x <= 80 - cell // 2 and box.y <= 560 - cell // 2
    assert box.x + box.width >= 104 + cell // 2 and box.y + box.height >= 584 + cell // 2
    assert box.width * box.height <= 4 * cell * cell * 4  # a few cells, not the frame
    face = Face(Box(640, 200, 160, 200), 0.9)
    beside = before.copy()
    beside[40:44, 112:116] = 200  # right of the face's padded box, within a cell of it
    boxes = changed_boxes(before, beside, [face], 1280, 720)
    padded = face.box.padded(0.35, 1280, 720)
    assert any(b.x <= padded.x and b.y <= padded.y and b.x + b.width >= padded.x + padded.width
               and b.y + b.height >= padded.y + padded.height for b in boxes), boxes
    far = before.copy()
    far[5:8, 150:153] = 200  # the top right corner: the face is left out
    (box,) = changed_boxes(before, far, [face], 1280, 720)
    assert not box.overlaps(face.box)


@given(st.lists(st.tuples(st.integers(0, 89), st.integers(0, 159)), min_size=2, max_size=40))
@settings(max_examples=60, deadline=None)
def test_every_changed_thumbnail_pixel_lies_in_a_changed_box(points):
    import numpy as np

    from pipeline.render.faces import changed_boxes

    before = np.full((90, 160), 100, np.uint8)
    after = before.copy()
    for y, x in points:
        after[y, x] = 200
    boxes = changed_boxes(before, after, [], 1280, 720)
    if len(set(points)) < 2:
        return
    for y, x in points:
        assert any(b.x <= x * 8 and b.y <= y * 8 and b.x + b.width >= x * 8 + 8
                   and b.y + b.height >= y * 8 + 8 for b in boxes), (x, y, boxes)
    assert all(not a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_a_face_the_change_check_carried_past_blurs_everything_back_to_the_last_whole_run():
    samples = steady(13, 0.5, BIG)
    samples[8] = FaceSample(4.0, (Face(BIG, 0.9), Face(OTHER, 0.9)), True, since=1.0)
    samples[9:] = [sample(s.time, BIG, OTHER) for s in samples[9:]]
    regions = blur_regions(samples, 0.0, 6.0, W, H)
    assert all(whole_at(regions, t) for t in (1.2, 2.0, 3.0, 3.9))
    assert not whole_at(regions, 0.4) and not whole_at(regions, 5.5)


def test_whole_frame_runs_skip_flat_blocks_but_hold_every_textured_one_with_context():
    """A pillarboxed picture: the flat bars are left out, the picture and a small face pasted on a
    bar are kept with a block of context; an all-flat frame needs no run, a busy one all of it."""
    import numpy as np

    from pipeline.render.faces import CHANGE_CELL, textured_boxes

    cell = CHANGE_CELL * 8
    rgb = np.full((360, 640, 3), (48, 64, 80), np.uint8)  # a 1280x720 frame at half size
    rgb[:, :360] = np.random.default_rng(1).integers(0, 255, (360, 360, 3), dtype=np.uint8)
    rgb[40:52, 500:512] = (200, 160, 140)  # a 24 px face on the bar
    rgb[200:201, 600:601] += 3  # compression noise within FLAT_LEVEL
    boxes = textured_boxes(rgb, 2.0, 1280, 720, share=1.0)
    assert boxes is not None
    assert any(b.x == 0 and b.y == 0 and b.x + b.width >= 720 + cell and b.height == 720 for b in boxes)
    assert any(b.x <= 1000 - cell + 32 and b.y <= 80 - cell + 32 and b.x + b.width >= 1024 + cell - 32
               and b.y + b.height >= 104 + cell - 32 for b in boxes), boxes
    assert not any(b.overlaps(Box(1136, 336, 128, 128)) for b in boxes)  # the flat bar is skipped
    assert textured_boxes(np.full((360, 640, 3), 7, np.uint8), 2.0, 1280, 720) == ()
    busy = np.random.default_rng(2).integers(0, 255, (360, 640, 3), dtype=np.uint8)
    assert textured_boxes(busy, 2.0, 1280, 720) is None


@given(st.integers(0, 1279 - 24), st.integers(0, 719 - 24), st.sampled_from((1.0, 4 / 3, 8 / 3)),
       st.integers(5, 255))
@settings(max_examples=60, deadline=None)
def test_any_face_on_a_flat_canvas_lies_inside_a_textured_box_with_context(x, y, k, contrast):
    """Whatever its place, size of frame or contrast above FLAT_LEVEL, a 24 px face pasted on a
    flat canvas lies inside one box with at least half a block of context (where the frame allows)."""
    import numpy as np

    from pipeline.render.faces import CHANGE_CELL, textured_boxes

    w, h = round(1280 / k), round(720 / k)
    rgb = np.full((h, w, 3), 100, np.uint8)
    x0, y0, x1, y1 = int(x / k), int(y / k), int((x + 24) / k), int((y + 24) / k)
    rgb[y0:y1 + 1, x0:x1 + 1, 1] = np.uint8(min(255, 100 + contrast))
    boxes = textured_boxes(rgb, k, 1280, 720)
    assert boxes, boxes
    m = CHANGE_CELL * 4  # half a block of source pixels
    assert any(b.x <= max(0, x - m) and b.y <= max(0, y - m) and b.x + b.width >= min(1280, x + 24 + m)
               and b.y + b.height >= min(720, y + 24 + m) for b in boxes), (x, y, k, boxes)
