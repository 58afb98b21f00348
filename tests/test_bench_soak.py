"""benchmarks/soak_daemon.py: the leak-rate fit, and a short real soak of the daemon process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from bench_support import load_script

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "soak_daemon.py"


def test_summary_fits_the_leak_rate_after_warm_up():
    soak = load_script("soak_daemon")
    # 100 MB flat during a 60 s warm-up spike, then +0.01 MB/s (36 MB per hour) with jitter.
    samples = [{"t_s": float(t), "rss_mb": 150.0 if t < 60 else 100.0 + 0.01 * (t - 60) + (0.05 if t % 4 else -0.05),
                "frames": 15 * t} for t in range(0, 600, 2)]
    s = soak.summarize(samples, warmup_s=60)
    assert s["slope_mb_per_hour"] == pytest.approx(36.0, abs=0.5)
    assert s["rss_mb_peak"] == 150.0  # the warm-up spike counts for the peak, not for the slope
    assert s["rss_mb_after_warmup"] == pytest.approx(99.95)
    assert s["growth_mb_after_warmup"] == pytest.approx(5.48)
    assert s["fps_after_warmup"] == pytest.approx(15.0)


def test_bad_arguments_are_one_line_and_exit_2(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), "--minutes", "0", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["expected --minutes and --interval above 0, received 0.0 and 2.0"]
    assert not any(tmp_path.iterdir())
    proc = subprocess.run([sys.executable, str(SCRIPT), "--bundle", str(tmp_path / "missing"), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "--bundle" in proc.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.integration
@pytest.mark.slow  # 20 s of a real daemon process
def test_short_soak_of_the_real_daemon(tmp_path):
    pytest.importorskip("matplotlib")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--minutes", "0.3", "--warmup", "6", "--interval", "1",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (result_path,) = tmp_path.glob("*.json")
    assert result_path.with_suffix(".png").stat().st_size > 10_000
    result = json.loads(result_path.read_text())
    s = result["summary"]
    assert s["frames"] > 50 and 5 < s["fps_after_warmup"] <= 16  # --max-fps 15 holds
    assert s["exit_code_on_sigterm"] == 0 and s["publish_errors"] == 0
    assert 30 < s["rss_mb_end"] < 1000
    assert len(result["samples"]) >= 10 and result["machine"]["usable_cores"] >= 1
