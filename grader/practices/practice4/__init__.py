"""Practice 4: Building and running TensorRT engines from Python with pycuda."""

from grader.core.practice import Practice

PRACTICE = Practice(
    4, "TensorRT engine inference", "trt_infer.py", functions=("load_engine", "allocate_buffers", "infer")
)
