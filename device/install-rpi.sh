#!/usr/bin/env bash
# Install edgeemo as a service on Raspberry Pi OS bookworm (Pi 4/5, Python 3.11).
# picamera2 comes from apt (it needs libcamera's Python bindings, which pip cannot build), so the
# venv is made with --system-site-packages to see it. TensorFlow is never installed here.
#
#   sudo ./device/install-rpi.sh [path/to/edgeemo-wheel-or-checkout] [path/to/bundle]
set -euo pipefail

DEVICE_DIR="$(dirname "$0")"
# shellcheck source=install-common.sh
source "$DEVICE_DIR/install-common.sh" "$@"
apt-get install -y --no-install-recommends python3-venv python3-picamera2 python3-opencv python3-numpy

make_user_and_venv
# The apt OpenCV (4.x, with Haar cascades) is used; the device extra's wheel is skipped if present.
"$PREFIX/venv/bin/pip" install "${SRC}[device]"

# shellcheck source=install-service.sh
source "$DEVICE_DIR/install-service.sh"
echo "Edit /etc/edgeemo/edgeemo.toml, then: sudo systemctl enable --now edgeemo"
