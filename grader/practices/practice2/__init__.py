"""Practice 2: A Polygraphy data loader, INT8 calibration and INT8-vs-FP32 accuracy."""

from grader.core.practice import Practice

PRACTICE = Practice(2, "Polygraphy data loader + INT8", "data_loader.py")
