"""Practice 1: Export a PyTorch model to ONNX and check it with ONNX Runtime."""

from grader.core.practice import Practice

PRACTICE = Practice(1, "ONNX export", "export_onnx.py", functions=("export_model", "export_timm", "export_yolo"))
