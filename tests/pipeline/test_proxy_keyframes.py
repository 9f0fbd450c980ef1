"""Review proxies carry a keyframe every second, so the player seeks to any in point fast (issue 19)."""

from __future__ import annotations

from pipeline.render.proxy_encode import ProxyOptions, SourceStreams, plan_proxy


def test_plan_forces_a_keyframe_every_keyframe_seconds():
    argv = plan_proxy("ffmpeg", "/m/a.mp4", "/ws/p.mp4", SourceStreams(12.0, 0, 1, 720))
    assert argv[argv.index("-force_key_frames") + 1] == "expr:gte(t,n_forced*1)"
    argv = plan_proxy("ffmpeg", "/m/a.mp4", "/ws/p.mp4", SourceStreams(12.0, 0, 1, 720),
                      ProxyOptions(keyframe_seconds=0.5))
    assert argv[argv.index("-force_key_frames") + 1] == "expr:gte(t,n_forced*0.5)"


def test_audio_only_plan_encodes_no_video():
    argv = plan_proxy("ffmpeg", "/m/a.flac", "/ws/p.mp4", SourceStreams(12.0, None, 0, None))
    assert "-vcodec" not in argv and "-force_key_frames" not in argv
