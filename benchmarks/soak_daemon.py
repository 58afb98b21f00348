"""Memory soak of the daemon: run `edgeemo daemon` for minutes on a looping video and watch its RSS.

    python benchmarks/soak_daemon.py                         # 10 minutes, 15 fps, the shipped bundle
    python benchmarks/soak_daemon.py --minutes 60 --max-fps 30 --bundle bundle/
    python benchmarks/soak_daemon.py --no-mqtt               # without a local mosquitto

A service runs for weeks, so a slow leak matters more than the start-up footprint `edgeemo bench`
measures. The daemon runs as users run it, in its own process from a TOML config: a real MP4 of a
real face (the sample clip, looped), BlazeFace, the classifier, the tracker, and every publisher
(JSON Lines to a small file that rotates, HTTP, and MQTT to a mosquitto started here when one is
installed). Every --interval seconds the script reads the daemon's VmRSS from /proc and its frame
count from /status. After a warm-up it fits a line to RSS over time: the slope (MB per hour) is
the leak rate, next to the growth from the end of the warm-up to the end.

Writes benchmarks/results/soak/<date>-<machine>.json (config, every sample, summary, machine)
and .png (RSS and fps over time). Exits 1 if the daemon died, processed no frames, a publisher
failed, or SIGTERM did not stop it cleanly; 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
DAEMON = [sys.executable, "-c", "from edgeemo.cli import main; main()", "daemon", "--config"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _get_metrics(port: int) -> dict[str, Any] | None:
    """The metrics part of the daemon's /status (frames, fps, stage times); None while it is not up."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as r:
            return json.loads(r.read())["metrics"]
    except (OSError, urllib.error.URLError, json.JSONDecodeError, KeyError):
        return None


def write_clip_video(path: Path, frames: int = 96, fps: float = 15.0) -> Path:
    """The sample clip (a real face that pans, zooms and changes light) as an MP4 file."""
    import cv2

    from edgeemo.data.sample_clip import write_sample_clip

    folder = write_sample_clip(path.parent / "clip_frames", frames=frames)
    images = sorted(folder.glob("*.jpg"))
    first = cv2.imread(str(images[0]))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (first.shape[1], first.shape[0]))
    for image in images:
        writer.write(cv2.imread(str(image)))
    writer.release()
    if not path.is_file() or path.stat().st_size == 0:
        raise RuntimeError(f"expected OpenCV to write an MP4 video, received nothing at {path}")
    return path


def start_mosquitto(work: Path) -> tuple[subprocess.Popen[bytes], int] | None:
    exe = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if exe is None:
        return None
    port = _free_port()
    conf = work / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not _wait(lambda: _port_open(port), 10):
        proc.terminate()
        raise RuntimeError("expected mosquitto to listen within 10 s, received no open port")
    return proc, port


def daemon_config(video: Path, work: Path, http_port: int, mqtt_port: int | None, args: argparse.Namespace) -> str:
    bundle = f'path = "{Path(args.bundle).resolve()}"\n' if args.bundle else ""
    mqtt = (f'enabled = true\nhost = "127.0.0.1"\nport = {mqtt_port}\ndevice_id = "soak"\n'
            if mqtt_port else "enabled = false\n")
    return f"""log_level = "warning"
max_fps = {args.max_fps}

[bundle]
{bundle}threads = {args.threads}

[source]
uri = "{video}"
loop = true

[publish.jsonl]
enabled = true
path = "{work / 'emotions.jsonl'}"
min_interval_s = 0.0
max_bytes = 200000
backups = 2

[publish.mqtt]
{mqtt}
[publish.http]
enabled = true
port = {http_port}
"""


def summarize(samples: list[dict[str, float]], warmup_s: float) -> dict[str, Any]:
    """RSS after warm-up, at the end and at its peak; least-squares slope in MB per hour."""
    steady = [s for s in samples if s["t_s"] >= warmup_s] or samples[-2:]
    t = np.array([s["t_s"] for s in steady])
    rss = np.array([s["rss_mb"] for s in steady])
    slope = float(np.polyfit(t, rss, 1)[0]) * 3600 if len(t) >= 2 and np.ptp(t) > 0 else 0.0
    frames = samples[-1]["frames"] - steady[0]["frames"]
    span = samples[-1]["t_s"] - steady[0]["t_s"]
    return {
        "warmup_s": warmup_s,
        "rss_mb_after_warmup": round(float(rss[0]), 2),
        "rss_mb_end": round(float(rss[-1]), 2),
        "rss_mb_peak": round(max(s["rss_mb"] for s in samples), 2),
        "growth_mb_after_warmup": round(float(rss[-1] - rss[0]), 2),
        "slope_mb_per_hour": round(slope, 2),
        "frames": int(samples[-1]["frames"]),
        "fps_after_warmup": round(frames / span, 2) if span > 0 else 0.0,
    }


def plot(samples: list[dict[str, float]], summary: dict[str, Any], title: str, path: Path) -> None:
    from edgeemo.plots import pyplot, save_figure

    plt = pyplot()
    t = np.array([s["t_s"] for s in samples]) / 60
    fig, (ax_rss, ax_fps) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    ax_rss.plot(t, [s["rss_mb"] for s in samples], color="tab:blue")
    ax_rss.axvline(summary["warmup_s"] / 60, color="grey", linestyle=":", label="end of warm-up")
    ax_rss.set_ylabel("daemon RSS (MB)")
    ax_rss.set_title(f"{title}\nslope {summary['slope_mb_per_hour']:+.2f} MB/h, "
                     f"growth after warm-up {summary['growth_mb_after_warmup']:+.2f} MB")
    ax_rss.legend(loc="lower right")
    frames = np.array([s["frames"] for s in samples], dtype=float)
    seconds = np.array([s["t_s"] for s in samples])
    # Over ~30 s windows: a couple of seconds hold too few frames for a steady rate.
    interval = float(np.median(np.diff(seconds))) if len(seconds) > 1 else 1.0
    step = max(1, min(len(seconds) - 1, round(30 / max(interval, 1e-3))))
    fps = (frames[step:] - frames[:-step]) / np.maximum(seconds[step:] - seconds[:-step], 1e-9)
    ax_fps.plot(t[step:], fps, color="tab:green")
    ax_fps.set_ylabel("frames per second (30 s window)")
    ax_fps.set_xlabel("minutes since the daemon was ready")
    save_figure(fig, path)


def soak(args: argparse.Namespace) -> dict[str, Any]:
    from edgeemo.bench.machine import machine_info
    from edgeemo.bench.memprobe import proc_status_mb

    work = Path(tempfile.mkdtemp(prefix="edgeemo-soak-"))
    broker = None
    daemon = None
    log = None
    try:
        video = write_clip_video(work / "clip.mp4")
        broker = None if args.no_mqtt else start_mosquitto(work)
        if broker is None and not args.no_mqtt:
            print("mosquitto is not installed (apt-get install mosquitto): soaking without MQTT", file=sys.stderr)
        http_port = _free_port()
        config = work / "edgeemo.toml"
        config.write_text(daemon_config(video, work, http_port, broker[1] if broker else None, args))
        log = (work / "daemon.log").open("w")
        daemon = subprocess.Popen([*DAEMON, str(config)], stdout=subprocess.DEVNULL, stderr=log)
        if not _wait(lambda: _get_metrics(http_port) is not None or daemon.poll() is not None, 180) or daemon.poll() is not None:
            raise RuntimeError(f"expected the daemon to serve /status within 180 s, received: {(work / 'daemon.log').read_text()[-2000:]}")

        samples: list[dict[str, float]] = []
        last: dict[str, Any] = {}
        start = time.monotonic()
        duration = args.minutes * 60
        next_report = 0.0
        while (elapsed := time.monotonic() - start) <= duration and daemon.poll() is None:
            metrics, rss = _get_metrics(http_port), proc_status_mb("VmRSS", daemon.pid)
            if metrics is not None and rss is not None:
                last = metrics
                samples.append({"t_s": round(elapsed, 2), "rss_mb": round(rss, 2), "frames": metrics["frames"]})
            if elapsed >= next_report:
                print(f"{elapsed / 60:5.1f} min  RSS {rss or 0:7.1f} MB  frames {samples[-1]['frames'] if samples else 0}", flush=True)
                next_report += 60
            time.sleep(args.interval)
        died = daemon.poll()
        if died is not None:
            raise RuntimeError(f"expected the daemon to keep running, received exit code {died}: "
                               f"{(work / 'daemon.log').read_text()[-2000:]}")
        if not samples:
            raise RuntimeError("expected RSS and frame samples from the running daemon, received none")
        daemon.send_signal(signal.SIGTERM)
        try:
            exit_code: int | None = daemon.wait(30)
        except subprocess.TimeoutExpired:
            exit_code = None  # killed below; reported as a failed stop
        rotated = sorted(p.name for p in work.glob("emotions.jsonl*"))
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
        if log is not None:
            log.close()
        if broker is not None:
            broker[0].terminate()
            broker[0].wait(10)
        shutil.rmtree(work, ignore_errors=True)

    warmup = min(args.warmup, duration / 2)
    return {
        "what": "daemon RSS (VmRSS) on a looping MP4 of a real face, all publishers on",
        "command": "python benchmarks/soak_daemon.py " + " ".join(sys.argv[1:]),
        "config": {"minutes": args.minutes, "max_fps": args.max_fps, "threads": args.threads,
                   "bundle": args.bundle or "shipped default", "mqtt": broker is not None, "interval_s": args.interval},
        "summary": {**summarize(samples, warmup), "publish_errors": last.get("publish_errors"),
                    "exit_code_on_sigterm": exit_code, "jsonl_files": rotated},
        "samples": samples,
        "machine": machine_info(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--max-fps", type=float, default=15.0, help="the daemon's max_fps (0: as fast as it can)")
    parser.add_argument("--threads", type=int, default=1, help="classifier threads ([bundle] threads)")
    parser.add_argument("--bundle", help="bundle folder (default: the one shipped in the package)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between RSS samples")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds left out of the slope")
    parser.add_argument("--no-mqtt", action="store_true", help="do not start mosquitto")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "soak")
    args = parser.parse_args()
    if args.minutes <= 0 or args.interval <= 0:
        print(f"expected --minutes and --interval above 0, received {args.minutes} and {args.interval}", file=sys.stderr)
        return 2
    if args.bundle and not Path(args.bundle).exists():
        print(f"expected --bundle to be a bundle folder or .tar.gz, received a path that does not exist: {args.bundle}",
              file=sys.stderr)
        return 2

    try:
        result = soak(args)
    except RuntimeError as exc:
        print(f"soak failed: {exc}", file=sys.stderr)
        return 1
    from edgeemo.bench.machine import machine_slug
    from edgeemo.fileio import write_json

    stem = f"{dt.date.today().isoformat()}-{machine_slug(result['machine'])}"
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / f"{stem}.json", result)
    s = result["summary"]
    plot(result["samples"], s, f"edgeemo daemon, {args.minutes:g} min at max {args.max_fps:g} fps", args.out / f"{stem}.png")
    print(json.dumps(s, indent=1))
    print(f"wrote {args.out / stem}.json and .png")
    return 0 if s["frames"] > 0 and s["exit_code_on_sigterm"] == 0 and not s["publish_errors"] else 1


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main())
