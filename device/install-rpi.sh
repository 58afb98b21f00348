#!/usr/bin/env bash
# Install edgeemo as a service on Raspberry Pi OS bookworm (Pi 4/5, Python 3.11).
# picamera2 comes from apt (it needs libcamera's Python bindings, which pip cannot build), so the
# venv is made with --system-site-packages to see it. TensorFlow is never installed here.
#
#   sudo ./device/install-rpi.sh [path/to/edgeemo-wheel-or-checkout] [path/to/bundle]
set -euo pipefail

SRC="${1:-.}"
BUNDLE="${2:-}"
PREFIX=/opt/edgeemo

if [[ $EUID -ne 0 ]]; then echo "run as root (sudo)" >&2; exit 1; fi

apt-get update
apt-get install -y --no-install-recommends python3-venv python3-picamera2 python3-opencv python3-numpy

# Dedicated system user; group video opens /dev/video*, /dev/media* and /dev/dma_heap/*.
id -u edgeemo >/dev/null 2>&1 || useradd --system --home-dir /var/lib/edgeemo --shell /usr/sbin/nologin edgeemo
usermod -aG video edgeemo

python3 -m venv --system-site-packages "$PREFIX/venv"
"$PREFIX/venv/bin/pip" install --upgrade pip
# The apt OpenCV (4.x, with Haar cascades) is used; the device extra's wheel is skipped if present.
"$PREFIX/venv/bin/pip" install "${SRC}[device]"

DEVICE_DIR="$(dirname "$0")"
# shellcheck source=install-service.sh
source "$DEVICE_DIR/install-service.sh"
echo "Edit /etc/edgeemo/edgeemo.toml, then: sudo systemctl enable --now edgeemo"
