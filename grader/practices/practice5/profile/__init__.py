"""The grader's own trtexec profile tools: parse -> table -> plot (after NVIDIA trex), and the CLI.

``python -m grader profile SOURCE`` prints the summary table and writes the plot. The suite of
Practice 5 computes its expected values on real exports with this code, never with the
reference solution.
"""

from grader.practices.practice5.profile.parse import (
    LayerInfo,
    LayerTime,
    NotDetailedError,
    ProfileFormatError,
    precision_of,
    read_layer_file,
    read_layer_info,
    read_perf_summary,
    read_profile,
    read_profile_log,
)
from grader.practices.practice5.profile.table import summarize

__all__ = [
    "LayerInfo",
    "LayerTime",
    "NotDetailedError",
    "ProfileFormatError",
    "precision_of",
    "read_layer_file",
    "read_layer_info",
    "read_perf_summary",
    "read_profile",
    "read_profile_log",
    "summarize",
]
