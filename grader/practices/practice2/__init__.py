"""Practice 2: A Polygraphy data loader, INT8 calibration and INT8-vs-FP32 accuracy."""

from grader.core.practice import Practice

PRACTICE = Practice(
    2,
    "Polygraphy data loader + INT8",
    "data_loader.py",
    # The `polygraphy run` test runs in a process the worker setup forks with these already imported;
    # ORT's quantization package serves the INT8 tests.
    preload=("polygraphy.tools", "polygraphy.backend.onnxrt", "polygraphy.comparator", "onnxruntime.quantization"),
    worker_setup="grader.practices.practice2.worker:setup",
    functions=("preprocess", "load_data"),  # the suite's SIGNATURES: a renamed file is recognised by them
)
