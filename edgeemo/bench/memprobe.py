"""Peak resident memory of one artifact, measured in a fresh process.

Run as `python -m edgeemo.bench.memprobe MODEL --threads N`: imports the runtime, records the
process's peak RSS (the baseline), loads the model, runs a few inferences and records the peak
again. The difference is what this artifact costs on top of the runtime itself; both are
reported. A fresh process per artifact keeps one model's allocations out of another's number.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["main", "measure_memory", "proc_status_mb"]


def proc_status_mb(field: str, pid: int | str = "self") -> float | None:
    """A memory line of /proc/PID/status (VmRSS, VmHWM, ...) in MB; None off Linux or once PID is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _peak_rss_mb() -> float:
    # VmHWM belongs to this process image; ru_maxrss survives fork+exec on Linux and would
    # report the (possibly TensorFlow-sized) parent instead.
    peak_mb = proc_status_mb("VmHWM")
    if peak_mb is not None:
        return peak_mb
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edgeemo.bench.memprobe")
    parser.add_argument("model", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    import numpy as np

    from edgeemo.runtime import open_runtime, runtime_key_for

    key = runtime_key_for(args.model)
    if key == "litert":
        from edgeemo.runtime.litert import load_interpreter_class

        load_interpreter_class()
    elif key == "onnxruntime":
        import onnxruntime  # noqa: F401
    else:
        from edgeemo._lazy import require_tensorflow

        require_tensorflow()
    import_ms = (time.perf_counter() - t0) * 1000
    baseline = _peak_rss_mb()
    t1 = time.perf_counter()
    runtime = open_runtime(args.model, threads=args.threads)
    load_ms = (time.perf_counter() - t1) * 1000
    after_load = _peak_rss_mb()
    h, w, c = runtime.input_shape
    x = np.zeros((args.batch, h, w, c), np.float32)
    for _ in range(args.runs):
        runtime.predict(x)
    peak = _peak_rss_mb()
    runtime.close()
    print(json.dumps({
        "import_ms": round(import_ms, 1),
        "load_ms": round(load_ms, 2),
        "runtime_baseline_rss_mb": round(baseline, 2),
        "after_load_rss_mb": round(after_load, 2),
        "peak_rss_mb": round(peak, 2),
        "model_rss_mb": round(peak - baseline, 2),
    }))
    return 0


def measure_memory(model: Path, *, threads: int, batch: int = 1, timeout_s: float = 300) -> dict[str, object]:
    """Run the probe in a fresh interpreter; a failure is returned as {'error': ...}, not raised."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    cmd = [sys.executable, "-m", "edgeemo.bench.memprobe", str(model), "--threads", str(threads), "--batch", str(batch)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"memory probe timed out after {timeout_s:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"memory probe failed (exit {proc.returncode}): {tail}"}
    return json.loads(lines[-1])


if __name__ == "__main__":
    raise SystemExit(main())
