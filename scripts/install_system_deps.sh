#!/usr/bin/env bash
# Debian packages volumeviz needs on a fresh machine (run as root, or with sudo available):
#  - offscreen OpenGL for VTK (Mesa llvmpipe through EGL; without GL libraries VTK segfaults)
#  - Xvfb and the X/xcb libraries Qt needs for the GUI tests (pyvistaqt cannot use QT_QPA_PLATFORM=offscreen)
#  - dicom3tools (dciodvfy validates the DICOM we write), poppler-utils (PDF checks), fonts
#  - orthanc + orthanc-dicomweb: the real PACS the PACS tests start on loopback (DICOMweb and
#    DIMSE); openssl makes the self-signed certificate of the TLS test
set -euo pipefail
PKGS=(
  libegl1 libgl1 libglx-mesa0 libgl1-mesa-dri libosmesa6
  xvfb xauth libx11-xcb1 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0
  libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-shm0 libxcb-sync1
  libxcb-util1 libxcb-xfixes0 libxcb-xkb1 libxcursor1
  dicom3tools poppler-utils fonts-dejavu-core
  orthanc orthanc-dicomweb openssl
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_system_deps: all ${#PKGS[@]} Debian packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install_system_deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install_system_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
