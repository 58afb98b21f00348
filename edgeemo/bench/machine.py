"""Describe the machine a benchmark ran on, so a number is never separated from its hardware."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import socket
from pathlib import Path

__all__ = ["machine_info", "machine_slug"]

_VERSIONED = ("numpy", "ai-edge-litert", "tflite-runtime", "tensorflow", "onnxruntime", "opencv-python-headless")


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        text = cpuinfo.read_text(errors="replace")
        for key in ("model name", "Hardware", "Model", "cpu model"):
            m = re.search(rf"^{key}\s*:\s*(.+)$", text, re.MULTILINE)
            if m:
                return m.group(1).strip()
    # Raspberry Pi and Jetson name the board in the device tree.
    dt_model = Path("/proc/device-tree/model")
    if dt_model.is_file():
        return dt_model.read_text(errors="replace").strip("\x00 \n")
    return platform.processor() or platform.machine()


def _board() -> str | None:
    dt_model = Path("/proc/device-tree/model")
    return dt_model.read_text(errors="replace").strip("\x00 \n") if dt_model.is_file() else None


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# Instruction-set features that decide int8 and fp16 speed on x86 and Arm.
_FEATURES = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "neon", "asimd", "asimddp", "i8mm", "fphp")


def _cpu_features() -> list[str]:
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return []
    m = re.search(r"^(?:flags|Features)\s*:\s*(.+)$", cpuinfo.read_text(errors="replace"), re.MULTILINE)
    present = set(m.group(1).split()) if m else set()
    return [f for f in _FEATURES if f in present]


def _governor() -> str | None:
    path = Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    return path.read_text().strip() if path.is_file() else None


def _versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for dist in _VERSIONED:
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def machine_info() -> dict[str, object]:
    """CPU model, cores, OS, Python and the versions of every inference package present."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "hostname": socket.gethostname(),
        "cpu_model": _cpu_model(),
        "board": _board(),
        "arch": platform.machine(),
        "cpu_features": _cpu_features(),
        "logical_cores": os.cpu_count(),
        "usable_cores": _usable_cores(),
        "cpu_governor": _governor(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": _versions(),
        # A busy shared machine makes absolute numbers noisy; say how busy it was.
        "loadavg_1m_at_start": round(load[0], 2) if load else None,
    }


def machine_slug(info: dict[str, object]) -> str:
    """A short file-name-safe name for result files, e.g. 'amd-epyc-2c' or 'raspberry-pi-5-4c'."""
    name = str(info.get("board") or info.get("cpu_model") or info.get("arch") or "machine")
    name = re.sub(r"\(.*?\)|model name|processor|cpu|@.*$", "", name, flags=re.IGNORECASE)
    words = re.findall(r"[a-z0-9]+", name.lower())[:4]
    slug = "-".join(words) or "machine"
    return f"{slug}-{info.get('usable_cores')}c"
