"""Hostile entry: sys.exit(0) at import (expected: graded, 0 points, "SystemExit")."""

import sys

sys.exit(0)
