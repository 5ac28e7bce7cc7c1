"""Practice 1: export PyTorch models to ONNX for TensorRT 10.3 on the Jetson.

Check your work:  pytest assignments/practice1
"""

from __future__ import annotations

from pathlib import Path

import torch


def export_model(
    model: torch.nn.Module,
    onnx_path: str | Path,
    *,
    input_shape: tuple[int, ...] = (1, 3, 224, 224),
    opset: int = 17,
    dynamic_batch: bool = False,
) -> Path:
    """Export ``model`` to one ONNX file at ``onnx_path`` and return that path (a ``pathlib.Path``).

    ``onnx_path`` may be a ``str`` or a ``pathlib.Path``; the result is a ``pathlib.Path`` either way.

    Contract (what TensorRT 10.3 on JetPack 6.2 needs):
    - one self-contained file: the weights inside, no ``.onnx.data`` beside it;
    - input named ``input`` with shape ``input_shape``, output named ``output``;
    - ``opset`` (17) in the default ONNX domain, IR version <= 10;
    - the batch dimension symbolic only when ``dynamic_batch=True``.
    """
    # TODO 1: 將模型切換到推論模式 (model.eval())，並建立形狀為 input_shape 的假輸入
    #         dummy = torch.randn(*input_shape)（模型在 GPU 上時，假輸入也要放在同一個 device）。
    # TODO 2: 呼叫 torch.onnx.export(model, (dummy,), str(onnx_path), ...)，設定
    #         opset_version=opset、input_names=["input"]、output_names=["output"]。
    #         注意：torch 2.9 起預設使用 dynamo 匯出器，它會寫出 opset 18 與外部權重檔，
    #         請加上 dynamo=False 使用傳統匯出器。
    # TODO 3: dynamic_batch=True 時，用 dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}
    #         讓 batch 維度變成符號維度；否則不要傳 dynamic_axes。
    # TODO 4: 回傳 Path(onnx_path)（onnx_path 可能是 str，所以要轉成 pathlib.Path）。
    raise NotImplementedError


def export_timm(model_name: str, onnx_path: str | Path, *, pretrained: bool = True, opset: int = 17) -> Path:
    """Create ``model_name`` with ``timm.create_model`` in eval mode and export it with ``export_model``.

    ``pretrained`` is passed on to timm (offline, use ``pretrained=False``). Classifiers such
    as resnet18/resnet50 give input 1x3x224x224 and output 1x1000. Returns export_model's result
    (the ``pathlib.Path`` of the file).
    """
    # TODO 1: import timm；model = timm.create_model(model_name, pretrained=pretrained)
    # TODO 2: 切換到 eval()，再呼叫上面的 export_model(model, onnx_path, opset=opset)，回傳它的結果。
    raise NotImplementedError


def export_yolo(
    model: str = "yolov8n.pt", onnx_path: str | Path | None = None, *, opset: int = 17, imgsz: int = 640
) -> Path:
    """Export an Ultralytics YOLO model to ONNX and return the file's path (a ``pathlib.Path``).

    ``model`` is a weights file (``yolov8n.pt``) or, offline, an architecture file
    (``yolov8n.yaml``, random weights). YOLOv8n at 640 gives input ``images`` 1x3x640x640 and
    output ``output0`` 1x84x8400. When ``onnx_path`` is given, the file must end up there.
    """
    # TODO 1: from ultralytics import YOLO；exported = YOLO(model).export(format="onnx", opset=opset, imgsz=imgsz)
    # TODO 2: export() 回傳它寫出的檔案路徑；若有給 onnx_path，就把檔案移到 onnx_path（shutil.move）。
    # TODO 3: 回傳最後的檔案路徑，型別是 pathlib.Path（YOLO(...).export() 回傳的是 str）。
    raise NotImplementedError
