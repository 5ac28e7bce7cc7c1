"""Practice 1 suite: ONNX export (CPU tier real work; TensorRT parser check on the Jetson)."""

from grader.suites.practice1.suite import *  # noqa: F401,F403
