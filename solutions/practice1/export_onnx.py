"""Practice 1 (reference): export PyTorch models to ONNX for TensorRT 10.3 on the Jetson."""

from __future__ import annotations

import inspect
import shutil
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
    """Export ``model`` to one self-contained ONNX file at ``onnx_path`` and return its path.

    Input ``input``, output ``output``, opset ``opset`` in the default domain, IR <= 10,
    batch symbolic only when ``dynamic_batch``.
    """
    onnx_path = Path(onnx_path)
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    device = next(model.parameters()).device
    dummy = torch.randn(*input_shape, device=device)
    dynamic_axes = {"input": {0: "batch"}, "output": {0: "batch"}} if dynamic_batch else None
    # The dynamo exporter (torch's default since 2.9) writes opset 18 / IR 10 and external
    # data; the TorchScript exporter honours opset_version and keeps one file.
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    with torch.no_grad():
        torch.onnx.export(
            model,
            (dummy,),
            str(onnx_path),
            opset_version=opset,
            input_names=["input"],
            output_names=["output"],
            dynamic_axes=dynamic_axes,
            do_constant_folding=True,
            **legacy,
        )
    return onnx_path


def export_timm(model_name: str, onnx_path: str | Path, *, pretrained: bool = True, opset: int = 17) -> Path:
    """Create ``model_name`` with timm (eval mode) and export it with ``export_model``."""
    import timm

    model = timm.create_model(model_name, pretrained=pretrained).eval()
    channels, height, width = timm.data.resolve_data_config({}, model=model)["input_size"]
    return export_model(model, onnx_path, input_shape=(1, channels, height, width), opset=opset)


def export_yolo(
    model: str = "yolov8n.pt", onnx_path: str | Path | None = None, *, opset: int = 17, imgsz: int = 640
) -> Path:
    """Export an Ultralytics YOLO model (weights ``.pt`` or an architecture ``.yaml``) to ONNX."""
    from ultralytics import YOLO

    exported = Path(YOLO(model).export(format="onnx", opset=opset, imgsz=imgsz))
    if onnx_path is None:
        return exported
    target = Path(onnx_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if exported.resolve() != target.resolve():
        shutil.move(str(exported), str(target))
    return target
