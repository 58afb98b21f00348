"""TensorFlow's start-up notices are dropped from host commands' stderr; anything else it prints stays."""

from __future__ import annotations

import os

import pytest

from edgeemo._lazy import _filtered_stderr

NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796582135.743814   19129 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders.",
    "I0000 00:00:1796582135.744127   19129 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.",
    "I0000 00:00:1796582135.784050   19129 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use "
    "available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with the "
    "appropriate compiler flags.",
    "E0000 00:00:1796582138.503050   19129 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: "
    "Failed call to cuInit: UNKNOWN ERROR (303)",
]


def test_start_up_notices_are_dropped_and_real_errors_kept(capfd: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDGEEMO_TF_LOGS", raising=False)
    real = "E0000 00:00:1796582138.6   19129 op_kernel.cc:1857] OP_REQUIRES failed: out of memory"
    with _filtered_stderr():
        os.write(2, ("\n".join([*NOISE[:3], real, *NOISE[3:]]) + "\n").encode())
    err = capfd.readouterr().err
    assert err.splitlines() == [real]


def test_an_exception_inside_still_writes_back_what_was_printed(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ImportError), _filtered_stderr():
        os.write(2, b"ImportError: libcudnn.so.9: cannot open shared object file\n")
        raise ImportError("libcudnn")
    assert "libcudnn.so.9" in capfd.readouterr().err
