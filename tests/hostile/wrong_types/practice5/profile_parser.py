"""Hostile entry: every function returns the wrong type (expected: graded, 0 points, clear messages)."""


def precision_of(format_string):
    return 32


def parse_profile(path):
    return None


def parse_profile_log(text):
    return {"layers": "all"}


def parse_layer_info(path):
    return 42


def parse_perf_summary(text):
    return ["latency", 1.0]


def summarize(profile, layers, top_k=5):
    return "fast"


def plot_profile(profile, layers, out_png):
    return b"not a png"
