"""Autograder of the TensorRT deployment and quantization lab.

The package is a pytest plugin (``grader.plugin``), one test suite per practice
(``grader.practices.practiceN``), small inference backends (``grader.backends``) and the
command line (``python -m grader``). Only ``grader.backends.tensorrt`` imports TensorRT
or pycuda.
"""

__version__ = "0.1.0"
