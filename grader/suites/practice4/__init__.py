"""Practice 4 suite: TensorRT engine inference with pycuda (TensorRT 10 API lint on CPU; inference on the Jetson)."""

from grader.suites.practice4.suite import *  # noqa: F401,F403
