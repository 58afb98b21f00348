# Shared start of install-rpi.sh and install-jetson.sh (sourced, not run): the arguments, the root
# check and the package lists refreshed. Sets SRC, BUNDLE and PREFIX; defines make_user_and_venv.

SRC="${1:-.}"
BUNDLE="${2:-}"
PREFIX=/opt/edgeemo

if [[ $EUID -ne 0 ]]; then echo "run as root (sudo)" >&2; exit 1; fi

apt-get update

# Dedicated system user (group video opens /dev/video*, /dev/media* and /dev/dma_heap/*), and a venv
# that sees the apt packages (picamera2, OpenCV built with GStreamer).
make_user_and_venv() {
  id -u edgeemo >/dev/null 2>&1 || useradd --system --home-dir /var/lib/edgeemo --shell /usr/sbin/nologin edgeemo
  usermod -aG video edgeemo
  python3 -m venv --system-site-packages "$PREFIX/venv"
  "$PREFIX/venv/bin/pip" install --upgrade pip
}
