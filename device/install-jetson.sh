#!/usr/bin/env bash
# Install edgeemo as a service on a Jetson (JetPack 5/6, Ubuntu, Python 3.8-3.10).
# JetPack's OpenCV is built with GStreamer (for nvarguscamerasrc CSI cameras): the venv uses
# --system-site-packages so it is picked up instead of a pip wheel without GStreamer.
# ONNX Runtime with CUDA/TensorRT comes from NVIDIA's Jetson wheels (set ORT_WHEEL to one).
#
#   sudo ORT_WHEEL=/path/onnxruntime_gpu-*.whl ./device/install-jetson.sh [checkout] [bundle]
set -euo pipefail

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
