#!/usr/bin/env bash
# Gradescope runs this once, as root, on its Ubuntu image when it builds the autograder from this zip
# (unpacked in /autograder/source). Specification:
# https://gradescope-autograders.readthedocs.io/en/latest/specs/
# It installs Python >= 3.10 and the lab's CPU tier (pip install -e ".[cpu]") into /autograder/source/.venv.
# Gradescope has no GPU: the GPU tier's tests are "not graded on this machine" there (their maximum is 0
# for every student, as in any batch without a GPU), never 0 points.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive

apt-get update -q
apt-get install -y -q python3 python3-venv python3-pip
PYTHON=python3
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    # Older images (Ubuntu 20.04) ship Python 3.8: take 3.11 from the deadsnakes archive.
    apt-get install -y -q software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update -q
    apt-get install -y -q python3.11 python3.11-venv
    PYTHON=python3.11
fi

"$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check)
"${PIP[@]}" install --quiet --upgrade pip
# torch pinned first, as the lab's own setup.sh does (otherwise another package pulls a different build).
"${PIP[@]}" install --quiet @TORCH@
# Editable: the grader finds solutions/ and assignments/ beside its own grader/ folder, which an
# install into site-packages would not have.
"${PIP[@]}" install --quiet -e ".[cpu]"

# The trusted reference run, once, in the image: each submission then grades only itself.
.venv/bin/python -m grader.commands.autograder --warm-up
