"""A first run on a machine where the camera cannot work: what `edgeemo run` and `edgeemo daemon`
say and how they exit, through the real command in a fresh process. Uses the bundle shipped in
the package (no TensorFlow) and camera paths that cannot exist here (/dev/video97)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("cv2")

ABSENT = "/dev/video97"  # no machine running these tests has 98 cameras
if os.path.exists(ABSENT):
    pytest.skip(f"{ABSENT} exists on this machine", allow_module_level=True)


def edgeemo(*args: str, hide: tuple[str, ...] = ()) -> list[str]:
    """The `edgeemo` command in a fresh interpreter; `hide` makes those modules fail to import."""
    code = "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in hide)
    code += "from edgeemo.cli import main\nmain()\n"
    return [sys.executable, "-c", code, *args]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without OPENCV_LOG_LEVEL: an in-process CLI test sets it here, and a
    child would take it for the user's own choice."""
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_LOG_LEVEL"}
    return {**env, **extra}


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("edgeemo: error:")]


class Streamed:
    """A running command whose stderr is collected line by line while it runs."""

    def __init__(self, cmd: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     env=env or clean_env())
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.lines):
                return True
            if self.proc.poll() is not None:
                self._reader.join(2)
                return bool(predicate(self.lines))
            time.sleep(0.05)
        return bool(predicate(self.lines))

    def stop(self, sig: int) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(30)
        finally:
            self._reader.join(2)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def count(lines: list[str], text: str) -> int:
    return sum(text in line for line in lines)


# -- a missing package or backend: configuration error, at once --------------------------------

def test_missing_picamera2_is_one_line_saying_how_to_install_it_and_exit_2(tmp_path):
    t0 = time.monotonic()
    res = subprocess.run(edgeemo("run", "--source", "picamera2", "--max-frames", "1", hide=("picamera2",)),
                         capture_output=True, text=True, timeout=120, env=clean_env())
    elapsed = time.monotonic() - t0
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("edgeemo: error:"), res.stderr
    assert "sudo apt install python3-picamera2" in lines[0] and "--system-site-packages" in lines[0]
    assert "edgeemo[device]" not in lines[0], "pip's device extra does not provide picamera2"
    assert "retrying" not in res.stderr
    assert elapsed < 60, "no retry loop"

    # The daemon treats it the same way: exit 2, which the unit does not restart.
    config = tmp_path / "edgeemo.toml"
    config.write_text('[source]\nuri = "picamera2"\n')
    res = subprocess.run(edgeemo("daemon", "--config", str(config), hide=("picamera2",)),
                         capture_output=True, text=True, timeout=120, env=clean_env())
    assert res.returncode == 2, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "python3-picamera2" in res.stderr


def test_gstreamer_source_without_gstreamer_is_a_configuration_error():
    from edgeemo.daemon.source_opencv import gstreamer_available

    if gstreamer_available():
        pytest.skip("this OpenCV has GStreamer")
    res = subprocess.run(edgeemo("run", "--source", "gst:videotestsrc ! appsink", "--max-frames", "1"),
                         capture_output=True, text=True, timeout=120, env=clean_env())
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "GStreamer: NO" in lines[0] and "--system-site-packages" in lines[0]


# -- a camera that is not there: run gives up soon and says why; --wait and the daemon wait ----

def test_absent_camera_fails_within_seconds_with_what_was_found():
    t0 = time.monotonic()
    res = subprocess.run(edgeemo("run", "--source", ABSENT, "--max-frames", "1"),
                         capture_output=True, text=True, timeout=120, env=clean_env())
    elapsed = time.monotonic() - t0
    assert res.returncode == 2, res.stderr
    errors = error_lines(res.stderr)
    assert len(errors) == 1, res.stderr
    line = errors[0]
    assert f"{ABSENT} to open within 5 s" in line
    assert f"{ABSENT} does not exist" in line and "video devices here:" in line
    assert "--wait" in line
    # One story: neither OpenCV's own warnings nor a line per retry.
    assert "VIDEOIO" not in res.stderr and "WARN" not in res.stderr and "retrying in" not in res.stderr
    assert elapsed < 60, f"took {elapsed:.1f} s to give up"


def test_wait_keeps_trying_and_verbose_lets_opencv_log_through():
    run = Streamed(edgeemo("-v", "run", "--wait", "--source", ABSENT, "--max-frames", "1"))
    try:
        assert run.wait_for(lambda lines: count(lines, "open failed") >= 2, 60), "\n".join(run.lines)
        assert run.proc.poll() is None, "--wait must not give up"
        assert count(run.lines, "cannot open it yet") == 1, "the diagnosis is said once"
        assert count(run.lines, f"{ABSENT} does not exist") == 1
        assert count(run.lines, "VIDEOIO") >= 1, "-v shows OpenCV's own log"
        assert run.stop(signal.SIGINT) == 0, "\n".join(run.lines)
    finally:
        run.kill()
    assert not error_lines("\n".join(run.lines))


def daemon_config(tmp_path: Path, uri: str, jsonl: Path | None = None) -> Path:
    config = tmp_path / "edgeemo.toml"
    body = f'[source]\nuri = "{uri}"\nreconnect_initial_s = 0.05\nreconnect_max_s = 0.2\n'
    if jsonl is not None:
        body += f'[publish.jsonl]\nenabled = true\npath = "{jsonl}"\nmax_bytes = 0\n'
    config.write_text(body)
    return config


def test_daemon_waits_for_an_absent_camera_and_says_why_once(tmp_path):
    run = Streamed(edgeemo("daemon", "--config", str(daemon_config(tmp_path, ABSENT))))
    try:
        assert run.wait_for(lambda lines: count(lines, "open failed") >= 3, 60), "\n".join(run.lines)
        assert run.proc.poll() is None, "a service keeps waiting for its camera"
        assert count(run.lines, "cannot open it yet") == 1
        assert count(run.lines, f"{ABSENT} does not exist") == 1
        assert "VIDEOIO" not in "\n".join(run.lines)
        assert run.stop(signal.SIGTERM) == 0, "\n".join(run.lines)
    finally:
        run.kill()


def test_daemon_source_failing_at_start_recovers(tmp_path):
    jsonl = tmp_path / "out.jsonl"
    config = daemon_config(tmp_path, "fake:64x48@30?fail_opens=3", jsonl)
    run = Streamed(edgeemo("daemon", "--config", str(config)))
    try:
        def frames() -> int:
            return len(jsonl.read_text().splitlines()) if jsonl.exists() else 0

        deadline = time.monotonic() + 60
        while frames() < 5 and time.monotonic() < deadline and run.proc.poll() is None:
            time.sleep(0.05)
        assert frames() >= 5, "\n".join(run.lines)
        assert count(run.lines, "cannot open it yet") == 1
        assert count(run.lines, "open failed") == 2, "\n".join(run.lines)
        assert run.stop(signal.SIGTERM) == 0, "\n".join(run.lines)
    finally:
        run.kill()


def test_daemon_with_a_start_timeout_exits_1_for_systemd_to_retry(tmp_path):
    config = daemon_config(tmp_path, ABSENT)
    config.write_text(config.read_text() + "start_timeout_s = 0.5\n")
    res = subprocess.run(edgeemo("daemon", "--config", str(config)), capture_output=True, text=True, timeout=120,
                         env=clean_env())
    assert res.returncode == 1, res.stderr
    errors = error_lines(res.stderr)
    assert len(errors) == 1 and f"{ABSENT} does not exist" in errors[0]


# -- re-runs and temporary folders -------------------------------------------------------------

def left_behind(tmp: Path) -> list[str]:
    """What a command left in its TMPDIR, apart from ONNX Runtime's own `.ses` (one 51-byte file it
    keeps there and rewrites, whoever opens a session; it does not pile up)."""
    return sorted(p.name for p in tmp.iterdir() if p.name != ".ses")


def test_demo_rerun_reports_the_same_and_leaves_no_temporary_folders(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = clean_env(TMPDIR=str(tmp))
    reports = []
    for _ in range(2):
        res = subprocess.run(edgeemo("demo", "--no-train", "--out", str(tmp_path / "demo")),
                             capture_output=True, text=True, timeout=300, env=env)
        assert res.returncode == 0, res.stderr
        found = re.search(r"a face in (\d+), labels (\{[^}]*\})", " ".join(res.stdout.split()))
        assert found, res.stdout
        reports.append(found.groups())
    assert reports[0] == reports[1]
    assert reports[0][0] == "24", "the 24-frame clip, counted once"
    assert not left_behind(tmp)


def test_bench_leaves_no_temporary_folders_also_when_it_fails(tmp_path):
    from edgeemo.bundle import default_bundle_path

    bundle = default_bundle_path()
    if bundle is None:
        pytest.skip("this installation ships no default bundle")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = clean_env(TMPDIR=str(tmp))
    model = str(bundle / "fer2013_reference_int8.tflite")
    # The artifact bench with its matrix-product peak probe.
    res = subprocess.run(edgeemo("bench", model, "--runs", "4", "--warmup", "1", "--repeats", "1", "--no-memory"),
                         capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stderr
    assert not left_behind(tmp)
    # The pipeline bench, once finishing and once failing on a source that will not open.
    for source, code in (("fake:64x48*6", 0), ("fake:64x48*6?fail_opens=1", 2)):
        res = subprocess.run(edgeemo("bench", "--pipeline", "--bundle", str(bundle), "--source", source,
                                     "--frames", "3", "--warmup", "1"),
                             capture_output=True, text=True, timeout=300, env=env)
        assert res.returncode == code, res.stderr
        assert not left_behind(tmp), source


def test_bundle_archive_is_unpacked_once_and_removed_at_exit(tmp_path):
    import tarfile

    from edgeemo.bundle import default_bundle_path

    bundle = default_bundle_path()
    if bundle is None:
        pytest.skip("this installation ships no default bundle")
    archive = tmp_path / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(bundle, arcname="bundle")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    code = f"""
import os
from edgeemo.bundle import load_bundle
a, b = load_bundle({str(archive)!r}), load_bundle({str(archive)!r})
assert a.root == b.root and a.model_path().is_file()
print(len(os.listdir({str(tmp)!r})))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=clean_env(TMPDIR=str(tmp)))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "1", "one unpacked copy while the process runs"
    assert not left_behind(tmp), "and none after it exits"


# -- the parts underneath, in process ------------------------------------------------------------

def test_grabber_gives_up_at_once_on_a_missing_package():
    from edgeemo.daemon.capture import FrameGrabber
    from edgeemo.daemon.source_fake import FakeSource
    from edgeemo.errors import MissingDependency

    class NeedsPackage(FakeSource):
        def open(self) -> None:
            self.opens += 1
            raise MissingDependency("expected the package 'camlib', received ImportError: No module named 'camlib'")

    src = NeedsPackage("fake:32x24")
    t0 = time.monotonic()
    with FrameGrabber(src, backoff_initial_s=0.01, start_timeout_s=10) as grabber:
        with pytest.raises(MissingDependency, match="camlib"):
            grabber.wait_open()
        assert grabber.get(1.0) is None
    assert src.opens == 1, "no retry: waiting does not install a package"
    assert isinstance(grabber.fatal, MissingDependency)
    assert time.monotonic() - t0 < 5


def test_grabber_start_timeout_names_the_last_failure_and_a_late_camera_is_waited_for():
    from edgeemo.daemon.capture import FrameGrabber
    from edgeemo.daemon.source_fake import FakeSource
    from edgeemo.errors import SourceUnavailable

    never = FakeSource("fake:32x24@100", fail_opens=10_000)
    grabber = FrameGrabber(never, backoff_initial_s=0.01, backoff_max_s=0.05, start_timeout_s=0.3)
    with grabber, pytest.raises(SourceUnavailable, match="injected failure") as err:
        grabber.wait_open()
    assert "within 0.3 s" in str(err.value) and "--wait" in str(err.value)

    late = FakeSource("fake:32x24@100", fail_opens=2)
    with FrameGrabber(late, backoff_initial_s=0.01, start_timeout_s=10) as grabber:
        grabber.wait_open()
        assert grabber.opened and grabber.get(2.0) is not None


def test_frame_loop_raises_what_ended_the_capture_for_good():
    from edgeemo.bundle import default_bundle_path
    from edgeemo.daemon.config import parse_config
    from edgeemo.daemon.runner import Runner
    from edgeemo.daemon.source_fake import FakeSource
    from edgeemo.errors import SourceUnsupported

    if default_bundle_path() is None:
        pytest.skip("this installation ships no default bundle")

    class Unsupported(FakeSource):  # no check(): the capture thread finds out on open()
        def open(self) -> None:
            raise SourceUnsupported("expected a backend this build has, received one it lacks")

    stop = threading.Event()
    bound = threading.Timer(20, stop.set)  # should the error not surface, the test still ends
    bound.start()
    try:
        with Runner(parse_config({}), source=Unsupported("fake:32x24")) as runner, \
                pytest.raises(SourceUnsupported, match="lacks"):
            runner.run(stop)
    finally:
        bound.cancel()


def test_video_devices_are_listed_in_numeric_order(tmp_path):
    from edgeemo.daemon.camera_diag import video_devices

    for name in ("video10", "video2", "video0", "videodev", "media0"):
        (tmp_path / name).touch()
    assert video_devices(tmp_path) == [str(tmp_path / n) for n in ("video0", "video2", "video10")]


def test_diagnosis_names_the_process_holding_the_camera(tmp_path):
    from edgeemo.daemon.camera_diag import camera_diagnosis, device_holders
    from edgeemo.daemon.sources import open_source

    node = tmp_path / "video5"
    node.write_bytes(b"")
    holder = subprocess.Popen([sys.executable, "-c", f"f = open({str(node)!r}); import sys; sys.stdin.read()"],
                              stdin=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not device_holders([str(node)]) and time.monotonic() < deadline:
            time.sleep(0.05)
        text = camera_diagnosis(open_source("/dev/video5"), dev=tmp_path)
        assert f"held by process {holder.pid} (" in text, text
        assert f"video devices here: {node}" in text and "video" in text
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(10)
    assert device_holders([str(node)]) == []
    assert "not held by" in camera_diagnosis(open_source("5"), dev=tmp_path)
    assert "does not exist (video devices here: " in camera_diagnosis(open_source("/dev/video6"), dev=tmp_path)
