"""Practice 3: A DLA build walked through on the GPU: what runs on DLA, what falls back."""

from grader.core.practice import Practice

PRACTICE = Practice(
    3,
    "GPU-simulated DLA build",
    "dla_build.py",
    functions=("configure_dla", "dla_placement", "dla_report", "build_dla_engine"),
)
