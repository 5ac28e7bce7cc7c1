#!/usr/bin/env bash
# One command for a fresh clone on an x86_64 CPU machine (Linux): create .venv, install
# torch pinned FIRST (otherwise another package pulls a multi-GB CUDA torch), install the
# lab, then grade solutions/ (must earn 100 %) and assignments/ (must earn 0 %).
# On a Jetson, follow README.md "Jetson setup (JetPack 6.2)" instead.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "setup.sh: Python >= 3.10 is needed ($("$PYTHON" --version 2>&1) found); set PYTHON=python3.11" >&2
    exit 1
fi
if [ -e /etc/nv_tegra_release ]; then
    echo "setup.sh: this is a Jetson: torch must come from NVIDIA's JetPack wheel." >&2
    echo "Follow README.md, section 'Jetson setup (JetPack 6.2)'." >&2
    exit 1
fi

case "$(uname -m)" in
    x86_64) TORCH=(torch==2.14.1 torchvision==0.29.1) ;;
    aarch64) TORCH=(torch==2.9.1 torchvision==0.24.1) ;;  # CPU build for non-Jetson ARM machines
    *) echo "setup.sh: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check)
"${PIP[@]}" install --quiet "${TORCH[@]}"
"${PIP[@]}" install --quiet -e ".[dev]"
.venv/bin/python -m grader selfcheck
