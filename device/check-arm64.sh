#!/usr/bin/env bash
# The device install, proven on arm64 without a Pi: an emulated Debian 12 (bookworm) arm64 system
# (what Raspberry Pi OS bookworm is built on, Python 3.11) under qemu-user-static, with
# `pip install .[device]` from this checkout, then `edgeemo demo --no-train`, `edgeemo run` on a
# generated video and `edgeemo evaluate` on FER-2013 test faces, and the arm64 top-1 labels of
# every bundle model compared with this machine's (x86) on the same faces.
#
#   sudo device/check-arm64.sh                 # needs root (debootstrap, chroot, mounts)
#
# Environment: EDGEEMO_ARM64_ROOTFS (default ~/.cache/edgeemo/arm64-rootfs, built once, ~2.5 min),
# EDGEEMO_FER2013 (default ../shared/datasets/fer2013), FACES_PER_CLASS (default 50: 350 faces),
# MIN_AGREEMENT (default 0.99), OUT (default benchmarks/results/arm64), ARM_CPU (cortex-a72, a Pi 4,
# default; or cortex-a76, a Pi 5): the CPU qemu emulates and /proc/cpuinfo describes. Not qemu's
# default "max" CPU: with its SVE/SME/i8mm features, LiteRT's int8 kernels gave one class for every
# face under qemu 7.2 while ONNX Runtime's matched x86 (docs/performance.md).
# Exit 0: passed, or skipped (no root/debootstrap/qemu/binfmt, or the Debian mirror unreachable:
# says why); 1: a check failed.
# Emulated timings mean nothing: only correctness is reported.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
ROOTFS="${EDGEEMO_ARM64_ROOTFS:-$HOME/.cache/edgeemo/arm64-rootfs}"
FER="${EDGEEMO_FER2013:-$REPO/../shared/datasets/fer2013}"
FACES_PER_CLASS="${FACES_PER_CLASS:-50}"
MIN_AGREEMENT="${MIN_AGREEMENT:-0.99}"
OUT="${OUT:-$REPO/benchmarks/results/arm64}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PYTHON="${PYTHON:-python3}"
ARM_CPU="${ARM_CPU:-cortex-a72}"
case "$ARM_CPU" in
  cortex-a72) CPU_PART=0xd08; BOARD="Raspberry Pi 4 Model B Rev 1.4"; FEATURES="fp asimd evtstrm crc32 cpuid" ;;
  cortex-a76) CPU_PART=0xd0b; BOARD="Raspberry Pi 5 Model B Rev 1.0"
    FEATURES="fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp" ;;
  *) echo "arm64 check: expected ARM_CPU cortex-a72 or cortex-a76, received $ARM_CPU"; exit 2 ;;
esac

skip() { echo "arm64 check: skipped: $*"; exit 0; }
say() { echo "arm64 check: $*"; }

[ "$(id -u)" = 0 ] || skip "expected root (debootstrap, chroot and bind mounts), received uid $(id -u)"
command -v debootstrap >/dev/null || skip "expected debootstrap (apt-get install debootstrap), received none"
command -v qemu-aarch64-static >/dev/null || skip "expected qemu-user-static (apt-get install qemu-user-static binfmt-support), received none"
[ -d "$FER/test" ] || skip "expected FER-2013 test faces in $FER/test (set EDGEEMO_FER2013), received none"
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
  update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
fi
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || skip "expected the qemu-aarch64 binfmt handler (update-binfmts --enable qemu-aarch64), received none"

if grep -q " $ROOTFS/" /proc/mounts; then
  # A run killed before its clean-up left them; removing files under a bound /dev would hit the host's.
  echo "arm64 check: expected nothing mounted under $ROOTFS, received: $(grep " $ROOTFS/" /proc/mounts | cut -d' ' -f2 | tr '\n' ' ')(umount -l them)"
  exit 1
fi
if [ ! -f "$ROOTFS/.edgeemo-ready" ]; then
  say "building Debian bookworm arm64 in $ROOTFS (once)"
  rm -rf "$ROOTFS.tmp" && mkdir -p "$(dirname "$ROOTFS")"
  debootstrap --arch=arm64 --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$ROOTFS.tmp" "$MIRROR" >/dev/null || skip "debootstrap of bookworm arm64 from $MIRROR failed (no network to it?)"
  rm -rf "$ROOTFS" && mv "$ROOTFS.tmp" "$ROOTFS" && touch "$ROOTFS/.edgeemo-ready"
fi

MOUNTS=()
cleanup() {
  for ((i=${#MOUNTS[@]}-1; i>=0; i--)); do umount -l "${MOUNTS[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
bind() { mkdir -p "$2"; mount --bind "$1" "$2"; MOUNTS+=("$2"); }
mount -t proc proc "$ROOTFS/proc"; MOUNTS+=("$ROOTFS/proc")
bind /dev "$ROOTFS/dev"
bind /sys "$ROOTFS/sys"  # onnxruntime's cpuinfo reads the possible/present CPU lists there
# Under qemu-user the program reads the host's /proc/cpuinfo; onnxruntime's CPU detection then
# dies with a segmentation fault on x86 fields. The emulated Pi's cpuinfo, one entry per core.
CPUINFO="$ROOTFS/tmp/edgeemo-cpuinfo"
mkdir -p "$ROOTFS/tmp"
: > "$CPUINFO"
for ((n=0; n<$(nproc); n++)); do
  printf 'processor\t: %d\nBogoMIPS\t: 108.00\nFeatures\t: %s\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: %s\nCPU revision\t: 3\n\n' "$n" "$FEATURES" "$CPU_PART" >> "$CPUINFO"
done
printf 'Hardware\t: BCM2835\nModel\t\t: %s\n' "$BOARD" >> "$CPUINFO"
mount --bind "$CPUINFO" "$ROOTFS/proc/cpuinfo"; MOUNTS+=("$ROOTFS/proc/cpuinfo")
cp -L /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
# Behind a proxy with its own certificate authority, pip in the chroot needs the host's CA bundle.
CA_ENV=""
HOST_CA="${PIP_CERT:-${SSL_CERT_FILE:-}}"
if [ -n "$HOST_CA" ] && [ -f "$HOST_CA" ]; then
  cp -L "$HOST_CA" "$ROOTFS/etc/ssl/certs/edgeemo-host-ca.crt"
  CA_ENV="PIP_CERT=/etc/ssl/certs/edgeemo-host-ca.crt SSL_CERT_FILE=/etc/ssl/certs/edgeemo-host-ca.crt"
fi

say "copying the checkout and $FACES_PER_CLASS FER-2013 test faces per class"
rm -rf "$ROOTFS/opt/src" "$ROOTFS/opt/faces" "$ROOTFS/opt/out"
mkdir -p "$ROOTFS/opt/src" "$ROOTFS/opt/faces/test" "$ROOTFS/opt/out"
# What `pip install .` reads: the package, the recipes, the metadata; plus this check's helper.
tar -C "$REPO" --exclude=__pycache__ -cf - pyproject.toml README.md edgeemo quantize device | tar -C "$ROOTFS/opt/src" -xf -
for d in "$FER"/test/*/; do
  name="$(basename "$d")"
  mkdir -p "$ROOTFS/opt/faces/test/$name"
  # awk, not head: head closing the pipe early would fail the pipeline under pipefail (SIGPIPE).
  find "$d" -maxdepth 1 -name '*.jpg' | sort | awk -v n="$FACES_PER_CLASS" 'NR <= n' | xargs -I{} cp {} "$ROOTFS/opt/faces/test/$name/"
done

in_arm64() { chroot "$ROOTFS" /usr/bin/env -i HOME=/root PATH=/opt/venv/bin:/usr/bin:/bin LANG=C.UTF-8 QEMU_CPU="$ARM_CPU" \
  PIP_DISABLE_PIP_VERSION_CHECK=1 $CA_ENV /bin/bash -c "$1"; }
[ "$(in_arm64 'uname -m')" = aarch64 ] || { echo "arm64 check: expected aarch64 in the chroot, received $(in_arm64 'uname -m')"; exit 1; }

say "pip install .[device] in a venv (arm64 wheels: numpy, opencv-python-headless, ai-edge-litert, onnxruntime)"
in_arm64 '[ -x /opt/venv/bin/python ] || python3 -m venv /opt/venv'
in_arm64 'pip install -q "/opt/src[device]" && if pip show tensorflow >/dev/null 2>&1; then echo "expected no TensorFlow on a device, received it installed"; exit 1; fi'
in_arm64 'python -c "import platform, onnxruntime, ai_edge_litert, cv2, numpy; print(\"arm64 python\", platform.python_version(), platform.machine(), \"onnxruntime\", onnxruntime.__version__)"'

say "edgeemo demo --no-train"
in_arm64 'cd /tmp && edgeemo demo --no-train --out /opt/out/demo > /opt/out/demo.log 2>&1' || { cat "$ROOTFS/opt/out/demo.log"; exit 1; }
say "edgeemo run on a generated 640x480 video"
in_arm64 'python /opt/src/device/arm64_compare.py video /opt/out/moving.mp4 --frames 60 &&
  edgeemo run --source /opt/out/moving.mp4 --jsonl /opt/out/run.jsonl --show-metrics 2> /opt/out/run-metrics.txt'
in_arm64 'python - <<EOF
import json
recs = [json.loads(l) for l in open("/opt/out/run.jsonl")]
found = sum(1 for r in recs if r["faces"])
print(f"edgeemo run: {len(recs)} frames, a face in {found}")
assert len(recs) == 60 and found >= 54, (len(recs), found)
EOF'
say "edgeemo evaluate on $(find "$ROOTFS/opt/faces/test" -name '*.jpg' | wc -l) FER-2013 test faces"
in_arm64 'b=$(python -c "from edgeemo.bundle import default_bundle_path; print(default_bundle_path())");
  edgeemo evaluate "$b" --data /opt/faces --json /opt/out/evaluate.json > /opt/out/evaluate.log 2>&1' || { cat "$ROOTFS/opt/out/evaluate.log"; exit 1; }
in_arm64 'python /opt/src/device/arm64_compare.py predict --data /opt/faces --out /opt/out/arm64.json'

say "the same faces on this machine ($(uname -m))"
mkdir -p "$OUT"
HOST_PRED="$(mktemp -d)"
PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" "$REPO/device/arm64_compare.py" predict --data "$ROOTFS/opt/faces" --out "$HOST_PRED/x86.json"
cp "$ROOTFS/opt/out/run-metrics.txt" "$OUT/run-metrics-arm64.txt"
cp "$ROOTFS/opt/out/evaluate.json" "$OUT/evaluate-arm64.json" 2>/dev/null || true
"$PYTHON" "$REPO/device/arm64_compare.py" compare "$HOST_PRED/x86.json" "$ROOTFS/opt/out/arm64.json" \
  --out "$OUT/agreement.json" --min-agreement "$MIN_AGREEMENT"
rm -rf "$HOST_PRED"
say "passed: results in $OUT"
