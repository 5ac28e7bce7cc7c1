"""Practice 1: Export a PyTorch model to ONNX and check it with ONNX Runtime."""

from grader.core.practice import Practice

PRACTICE = Practice(
    1,
    "ONNX export",
    "export_onnx.py",
    functions=("export_model", "export_timm", "export_yolo"),
    # Ultralytics' ONNX export simplifies the graph with onnxslim when it is installed: 0.4 s of imports in
    # every worker otherwise. (Not ultralytics itself: it reads and writes its settings file at import.)
    preload=("onnxslim",),
)
