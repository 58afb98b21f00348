"""What a user needs to know when a camera does not open: which devices exist, whether this
user may open them, and whether another process holds one. Best effort and Linux-specific:
every probe that cannot answer (no /proc, no `video` group) says so or stays silent, and none
of them opens the camera.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
from pathlib import Path

from edgeemo.daemon.sources import CameraSource

__all__ = ["camera_diagnosis", "device_holders", "video_devices", "video_group_note"]

_DEV = Path("/dev")
_PROC = Path("/proc")


def video_devices(dev: Path = _DEV) -> list[str]:
    """The V4L2 device nodes present, e.g. ["/dev/video0", "/dev/video1"], in numeric order."""
    found = [p for p in dev.glob("video*") if re.fullmatch(r"video\d+", p.name)]
    return [str(p) for p in sorted(found, key=lambda p: int(p.name[5:]))]


def video_group_note() -> str:
    """Whether this process may open cameras through the `video` group, as a short clause."""
    if os.geteuid() == 0:
        return "running as root (group video not needed)"
    try:
        video = grp.getgrnam("video")
    except KeyError:
        return "this system has no group 'video'"
    if video.gr_gid in os.getgroups() or video.gr_gid == os.getegid():
        return "you are in group video"
    try:
        user = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        user = ""
    if user and user in video.gr_mem:
        # Added to the group, but this login session predates it.
        return "you were added to group video but this session is older: log out and in again"
    return "you are not in group video (sudo usermod -aG video $USER, then log in again)"


def device_holders(paths: list[str], proc: Path = _PROC) -> list[str]:
    """Other processes with one of `paths` open, as "PID (NAME)". Only processes whose
    /proc/PID/fd this user may read are seen (all of them as root)."""
    wanted = {os.path.realpath(p) for p in paths}
    me = os.getpid()
    holders: list[str] = []
    try:
        pids = [d for d in proc.iterdir() if d.name.isdigit() and int(d.name) != me]
    except OSError:
        return holders
    for pid_dir in pids:
        try:
            links = [os.readlink(fd) for fd in (pid_dir / "fd").iterdir()]
        except OSError:  # gone, or not ours to see
            continue
        if wanted.intersection(links):
            try:
                name = (pid_dir / "comm").read_text(encoding="utf-8").strip()
            except OSError:
                name = "?"
            holders.append(f"{pid_dir.name} ({name})")
    return holders


def _holders_clause(paths: list[str]) -> str:
    held = device_holders(paths)
    if held:
        return f"held by process {', '.join(held)} (only one process can capture from a camera)"
    seen = "any process" if os.geteuid() == 0 else "any process of yours"
    return f"not held by {seen}"


def _v4l2_diagnosis(uri: str, dev: Path) -> list[str]:
    m = re.fullmatch(r"(?:/dev/video)?(\d+)", uri.strip())
    node = str(dev / f"video{m.group(1)}") if m else uri.strip()
    present = video_devices(dev)
    listing = ", ".join(present) if present else "none"
    parts: list[str] = []
    if not os.path.exists(node):
        parts.append(f"{node} does not exist (video devices here: {listing})")
    else:
        access = "readable and writable" if os.access(node, os.R_OK | os.W_OK) else "not readable and writable by you"
        parts.append(f"{node} exists and is {access} (video devices here: {listing})")
        parts.append(f"{node} is {_holders_clause([node])}")
    if present or os.path.exists(node):
        parts.append(video_group_note())
    return parts


def _picamera2_diagnosis(dev: Path) -> list[str]:
    media = sorted(str(p) for p in dev.glob("media*"))
    parts = [f"media devices here: {', '.join(media) if media else 'none (no camera found by libcamera)'}"]
    if media:
        parts.append(f"the camera is {_holders_clause(media + video_devices(dev))}")
        parts.append(video_group_note())
    parts.append("check the camera with `rpicam-hello --list-cameras`")
    return parts


def camera_diagnosis(source: CameraSource, dev: Path = _DEV) -> str:
    """One clause list, '; '-joined, for the source's kind; "" for sources without a device
    node (files, folders, network streams: their open error already says what failed)."""
    key = getattr(source, "key", "")
    if key == "v4l2":
        parts = _v4l2_diagnosis(source.uri, dev)
    elif key == "picamera2":
        parts = _picamera2_diagnosis(dev)
    else:
        parts = []
    return "; ".join(parts)
