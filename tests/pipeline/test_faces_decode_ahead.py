"""Frames decoded ahead by a helper thread (`SamplingOptions.decode_ahead`, phase 7): the same
items in the same order, errors raised at their place, the helper gone when the caller stops."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import MediaError
from pipeline.render.faces import SamplingOptions, decoded_ahead, detect_faces
from tests.conftest import shared_media_file
from tests.pipeline.render_support import TALKING_HEAD


class Source:
    """A generator of `n` items that fails at `fail_at` (if given) and records that it was closed
    and from which thread it was drawn."""

    def __init__(self, n: int, fail_at: int | None) -> None:
        self.n, self.fail_at = n, fail_at
        self.closed = False
        self.threads: set[str] = set()

    def items(self):
        try:
            for i in range(self.n):
                self.threads.add(threading.current_thread().name)
                if i == self.fail_at:
                    raise MediaError(f"cannot decode item {i}")
                yield i
        finally:
            self.closed = True


def _helpers_alive() -> bool:
    return any(t.name == "face-decode-ahead" and t.is_alive() for t in threading.enumerate())


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 12), depth=st.integers(0, 3), fail_at=st.none() | st.integers(0, 12),
       stop_at=st.none() | st.integers(0, 12))
def test_items_in_order_errors_in_place_and_an_early_stop_ends_the_helper(n, depth, fail_at, stop_at):
    source = Source(n, fail_at)
    got: list[int] = []
    failed = False
    ahead = decoded_ahead(source.items(), depth)
    try:
        for item in ahead:
            if stop_at is not None and len(got) == stop_at:
                break
            got.append(item)
    except MediaError:
        failed = True
    ahead.close()
    ends = min(x for x in (n, fail_at, stop_at) if x is not None)
    assert got == list(range(ends))
    # The caller asks for the next item before it checks whether to stop: an error there is seen.
    assert failed == (fail_at is not None and fail_at < n and (stop_at is None or fail_at <= stop_at))
    assert source.closed
    assert not _helpers_alive()
    if depth > 0 and source.threads:
        assert source.threads == {"face-decode-ahead"}  # the decoder runs on the helper only


@pytest.mark.slow
def test_decoding_ahead_finds_the_same_faces_on_the_same_frames():
    src = str(shared_media_file(TALKING_HEAD))
    plain = detect_faces(src, 0.0, 4.0, options=SamplingOptions(workers=1))
    ahead = detect_faces(src, 0.0, 4.0, options=SamplingOptions(workers=1, decode_ahead=2))
    assert ahead == plain and all(s.faces for s in ahead)
    assert not _helpers_alive()


@pytest.mark.slow
def test_an_unreadable_source_is_a_media_error_with_decoding_ahead(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    with pytest.raises(MediaError):
        detect_faces(str(bad), 0.0, 4.0, options=SamplingOptions(workers=1, decode_ahead=2))
    assert not _helpers_alive()
