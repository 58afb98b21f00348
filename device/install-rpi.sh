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

install -d -m 0755 "$PREFIX/device"
install -m 0644 "$(dirname "$0")/README.md" "$PREFIX/device/README.md"
install -d -o root -g edgeemo -m 0750 /etc/edgeemo
[[ -f /etc/edgeemo/edgeemo.toml ]] || install -o root -g edgeemo -m 0640 "$(dirname "$0")/edgeemo.example.toml" /etc/edgeemo/edgeemo.toml
install -d -o edgeemo -g edgeemo -m 0750 /var/lib/edgeemo
if [[ -n "$BUNDLE" ]]; then
  rm -rf /var/lib/edgeemo/bundle
  if [[ -d "$BUNDLE" ]]; then cp -r "$BUNDLE" /var/lib/edgeemo/bundle; else mkdir /var/lib/edgeemo/bundle && tar -xzf "$BUNDLE" -C /var/lib/edgeemo/bundle --strip-components=1; fi
  chown -R edgeemo:edgeemo /var/lib/edgeemo/bundle
fi
# LoadCredential= needs the file to exist; put the real MQTT password in it (or leave it empty).
[[ -f /etc/edgeemo/mqtt-password ]] || install -o root -g root -m 0600 /dev/null /etc/edgeemo/mqtt-password

install -m 0644 "$(dirname "$0")/../systemd/edgeemo.service" /etc/systemd/system/edgeemo.service
systemctl daemon-reload
"$PREFIX/venv/bin/edgeemo" daemon --config /etc/edgeemo/edgeemo.toml --validate-config
echo "Edit /etc/edgeemo/edgeemo.toml, then: sudo systemctl enable --now edgeemo"
