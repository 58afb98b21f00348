"""Sources and the capture thread: parsing, latest-frame semantics, reconnect with backoff."""

from __future__ import annotations

import time

import numpy as np
import pytest

from edgeemo.daemon.capture import FrameGrabber
from edgeemo.daemon.source_fake import FakeSource
from edgeemo.daemon.source_picamera2 import to_bgr
from edgeemo.daemon.sources import open_source, source_key_for
from edgeemo.errors import SourceError

cv2 = pytest.importorskip("cv2")


def test_source_strings_pick_the_right_backend(tmp_path):
    (tmp_path / "clip.mp4").write_bytes(b"")
    assert source_key_for("0") == "v4l2"
    assert source_key_for("/dev/video2") == "v4l2"
    assert source_key_for("picamera2") == "picamera2"
    assert source_key_for("picamera2:1") == "picamera2"
    assert source_key_for("rtsp://cam.local/stream") == "stream"
    assert source_key_for("http://127.0.0.1:8080/video") == "stream"
    assert source_key_for("gst:videotestsrc ! appsink") == "gst"
    assert source_key_for(str(tmp_path)) == "folder"
    assert source_key_for(str(tmp_path / "clip.mp4")) == "file"
    assert source_key_for("fake:320x240@10") == "fake"
    with pytest.raises(SourceError, match="no such file"):
        source_key_for(str(tmp_path / "nope.mp4"))


def test_urls_hide_credentials():
    src = open_source("rtsp://admin:secret@127.0.0.1:8554/live")
    assert "secret" not in src.describe()


def test_picamera2_byte_orders_become_bgr():
    # One pixel, pure red, as each format lays it out in memory.
    red_bgr = np.array([[[0, 0, 255]]], np.uint8)
    layouts = {
        "RGB888": np.array([[[0, 0, 255]]], np.uint8),       # B, G, R
        "BGR888": np.array([[[255, 0, 0]]], np.uint8),       # R, G, B
        "XRGB8888": np.array([[[0, 0, 255, 255]]], np.uint8),  # B, G, R, X
        "XBGR8888": np.array([[[255, 0, 0, 255]]], np.uint8),  # R, G, B, X
    }
    for fmt, arr in layouts.items():
        out = to_bgr(arr, fmt)
        assert out.shape == (1, 1, 3), fmt
        np.testing.assert_array_equal(out, red_bgr, err_msg=fmt)


def test_gstreamer_absent_is_said_plainly():
    from edgeemo.daemon.source_opencv import gstreamer_available

    src = open_source("gst:videotestsrc num-buffers=5 ! videoconvert ! appsink")
    if gstreamer_available():
        src.open()
        assert src.read() is not None
        src.close()
        return
    with pytest.raises(SourceError, match="GStreamer: NO"):
        src.open()


def test_video_file_gives_every_frame(tmp_path):
    path = tmp_path / "v.mp4"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (160, 120))
    for i in range(25):
        w.write(np.full((120, 160, 3), i * 10, np.uint8))
    w.release()
    src = open_source(str(path))
    got = []
    with FrameGrabber(src) as g:
        while not g.ended:
            f = g.get(1.0)
            if f is not None:
                got.append(f.index)
                time.sleep(0.002)  # a slow consumer must not lose file frames
    assert got == list(range(25))
    assert g.stats.dropped == 0


def test_image_folder_source(tmp_path):
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i:02d}.png"), np.full((40, 60, 3), i * 50, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    src = open_source(str(tmp_path))
    src.open()
    frames = [src.read() for _ in range(4)]
    assert [int(f[0, 0, 0]) for f in frames[:3]] == [0, 50, 100]
    assert frames[3] is None


def test_live_source_keeps_only_the_newest_frame_and_counts_drops():
    src = FakeSource("fake:64x48@400", live=True)
    with FrameGrabber(src) as g:
        got = []
        t_end = time.monotonic() + 0.6
        while time.monotonic() < t_end:
            f = g.get(0.5)
            if f is not None:
                got.append(f.index)
                time.sleep(0.02)  # slower than the camera
    assert g.stats.dropped > 0
    assert got == sorted(got)
    # Every frame the loop missed was counted as dropped (the last one may still sit in the slot).
    assert g.stats.frames - len(got) - g.stats.dropped in (0, 1)


def test_reconnects_with_backoff_after_open_and_read_failures():
    src = FakeSource("fake:32x24@200", fail_opens=3, fail_after=10)
    g = FrameGrabber(src, backoff_initial_s=0.02, backoff_max_s=0.1, stall_timeout_s=5)
    t0 = time.monotonic()
    with g:
        deadline = t0 + 3.0
        while time.monotonic() < deadline and g.stats.reconnects < 1:
            g.get(0.1)
        while time.monotonic() < deadline and g.stats.frames < 30:
            g.get(0.1)
    assert g.stats.open_failures == 3
    assert g.stats.read_failures == 1
    assert g.stats.reconnects == 1
    assert g.stats.frames >= 30  # frames flow again after the reconnect
    # 3 failed opens at 0.02, 0.04, 0.08 s backoff, then the read failure waits 0.1 (capped)
    assert time.monotonic() - t0 > 0.2


def test_stall_is_counted_and_reported():
    class Stalling(FakeSource):
        def read(self):
            if self.produced == 3:
                time.sleep(0.6)
            return super().read()

    src = Stalling("fake:32x24@100", live=True)
    g = FrameGrabber(src, stall_timeout_s=0.2)
    states = set()
    with g:
        t_end = time.monotonic() + 1.2
        while time.monotonic() < t_end:
            g.get(0.1)
            states.add(g.stats.state)
    assert g.stats.stalls >= 1
    assert "stalled" in states
