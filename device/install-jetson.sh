#!/usr/bin/env bash
# Install edgeemo as a service on a Jetson with JetPack 6 (L4T R36, Ubuntu 22.04, Python 3.10):
# Orin Nano, Orin NX, AGX Orin. edgeemo needs Python >= 3.10 (pyproject's requires-python), so
# JetPack 5 (Python 3.8) and JetPack 4 (Python 3.6; the original Jetson Nano's last) are refused.
# JetPack's OpenCV is built with GStreamer (for nvarguscamerasrc CSI cameras): the venv uses
# --system-site-packages so it is picked up instead of a pip wheel without GStreamer.
# ONNX Runtime with CUDA/TensorRT comes from NVIDIA's Jetson wheels for JetPack 6 / Python 3.10
# (set ORT_WHEEL to one). TensorRT engines are built on first start and kept in the service's
# state directory (/var/lib/edgeemo/tensorrt), so later starts load them in seconds.
#
#   sudo ORT_WHEEL=/path/onnxruntime_gpu-*.whl ./device/install-jetson.sh [checkout] [bundle]
set -euo pipefail

# /etc/nv_tegra_release: "# R36 (release), REVISION: 3.0, ..." on JetPack 6.
L4T="$(sed -n 's/^# R\([0-9]*\) (release), REVISION: \([0-9.]*\).*/\1.\2/p' /etc/nv_tegra_release 2>/dev/null || true)"
if [[ -n "$L4T" && "${L4T%%.*}" -lt 36 ]]; then
  echo "expected JetPack 6 (L4T R36 or later, Python 3.10), received L4T R$L4T (JetPack 5 has Python 3.8, JetPack 4 Python 3.6)" >&2
  exit 2
fi
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "expected Python >= 3.10 (JetPack 6), received $(python3 -V 2>&1)" >&2
  exit 2
fi

DEVICE_DIR="$(dirname "$0")"
# shellcheck source=install-common.sh
source "$DEVICE_DIR/install-common.sh" "$@"
apt-get install -y --no-install-recommends python3-venv python3-pip python3-opencv

make_user_and_venv
if [[ -n "${ORT_WHEEL:-}" ]]; then "$PREFIX/venv/bin/pip" install "$ORT_WHEEL"; fi
"$PREFIX/venv/bin/pip" install "${SRC}[device]"
"$PREFIX/venv/bin/python" - <<'PY'
import cv2, re
m = re.search(r"GStreamer:\s*(\S+)", cv2.getBuildInformation())
print("OpenCV", cv2.__version__, "GStreamer:", m.group(1) if m else "unknown")
PY

# shellcheck source=install-service.sh
source "$DEVICE_DIR/install-service.sh"
cat <<'MSG'
CSI camera example for /etc/edgeemo/edgeemo.toml:
  [source]
  uri = "gst:nvarguscamerasrc ! video/x-raw(memory:NVMM),width=1280,height=720,framerate=30/1 ! nvvidconv ! video/x-raw,format=BGRx ! videoconvert ! video/x-raw,format=BGR ! appsink drop=true max-buffers=1"
Then: sudo systemctl enable --now edgeemo
MSG
