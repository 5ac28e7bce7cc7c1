"""Practice 5: Reading trtexec's profiles, layer info and summaries."""

from grader.core.practice import Practice

PRACTICE = Practice(
    5,
    "Profile parsing",
    "profile_parser.py",
    functions=(
        "parse_profile",
        "parse_profile_log",
        "parse_layer_info",
        "parse_perf_summary",
        "summarize",
        "plot_profile",
        "layer_memory",
    ),
)
