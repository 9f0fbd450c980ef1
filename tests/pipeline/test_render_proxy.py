"""Review proxies: light H.264 with a WebVTT track next to it, no authorisation needed."""

from __future__ import annotations

import pytest

from pipeline.records import Cue
from pipeline.render.files import probe_output
from pipeline.render.proxy import make_proxy
from pipeline.render.subs import format_vtt
from tests.conftest import shared_media_file
from tests.pipeline.render_support import TALKING_HEAD

pytestmark = pytest.mark.slow


def test_proxy_is_small_playable_and_has_its_vtt(tmp_path):
    import pysubs2

    src = shared_media_file(TALKING_HEAD)
    vtt = format_vtt((Cue(0.1, 1.5, ("a <b>literal</b> line",)),))
    result = make_proxy(src, 1.0, 3.0, tmp_path / "proxies" / "candidate-1.mp4", vtt_text=vtt)
    info = probe_output(result.video)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.height == 360 and info.width == 360  # 590x590 source, at most 360 high
    assert abs(info.video_duration - 2.0) <= 1 / info.fps + 1e-3
    assert result.vtt == tmp_path / "proxies" / "candidate-1.vtt"
    assert len(pysubs2.load(str(result.vtt))) == 1
    assert "a &lt;b&gt;literal&lt;/b&gt; line" in result.vtt.read_text()  # shown literally by browsers
    assert [p.name for p in (tmp_path / "proxies").iterdir()] and not list((tmp_path / "proxies").glob(".*"))
