"""The DLA log reader and the DLA predictor on real TensorRT logs (real_files/dla, see its manifest).

Expected values come from the manifest, read off each file by a person; the predictor tests rebuild
the logged model here (random weights: placement does not depend on weights), export it the way the
log's author did, and compare with the placement the log shows. grader/practices/practice3/dla/EVIDENCE.md says which
rule each comparison changed.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grader.practices.practice3.dla import orin_log, rules

CORPUS = Path(__file__).resolve().parents[1] / "real_files" / "dla"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
BY_FILE = {entry["file"]: entry for entry in MANIFEST}
KEYS = (
    "file",
    "source",
    "repository",
    "path",
    "commit",
    "tensorrt",
    "tensorrt_evidence",
    "device",
    "licence",
    "excerpt",
    "expect",
    "spot",
)


def _log(name: str) -> orin_log.DlaLog:
    """A corpus file, parsed."""
    return orin_log.parse((CORPUS / name).read_text(encoding="utf-8"))


def test_corpus_is_whole() -> None:
    """At least 6 real DLA logs, old and new formats, each with the manifest's keys, and no file unlisted."""
    files = {path.name for path in CORPUS.glob("*.log")}
    assert files == set(BY_FILE) and len(files) >= 6
    for entry in MANIFEST:
        assert set(KEYS) <= set(entry), entry["file"]
        assert entry["expect"]["kind"] == "log"
    text = "\n".join((CORPUS / name).read_text(encoding="utf-8") for name in files)
    assert "[DlaLayer]" in text and "Layers running on DLA:" in text and "falling back to GPU" in text


@pytest.mark.parametrize("name", sorted(BY_FILE))
def test_counts_as_the_file_states(name: str) -> None:
    """dla_subgraphs and gpu_layers as read off the file; None (with a warning) where the file does not say."""
    expect = BY_FILE[name]["expect"]["dla"]
    log = _log(name)
    assert log.found
    assert log.dla_subgraphs == expect["dla_subgraphs"]
    assert log.gpu_layer_count == expect["gpu_layers"]
    if None in (log.dla_subgraphs, log.gpu_layer_count):
        assert log.warnings, "an unknown count must come with a warning"


@pytest.mark.parametrize("name", sorted(n for n, e in BY_FILE.items() if "subgraphs" in e["spot"]))
def test_subgraph_bounds(name: str) -> None:
    """Each DLA subgraph's first and last layer, as the list in the file names them."""
    wanted = [tuple(pair) for pair in BY_FILE[name]["spot"]["subgraphs"]]
    assert _log(name).subgraph_bounds() == wanted


@pytest.mark.parametrize("name", sorted(n for n, e in BY_FILE.items() if "gpu_layers" in e["spot"]))
def test_gpu_layers(name: str) -> None:
    """[GpuLayer] TYPE: name lines, type and name apart."""
    wanted = [tuple(pair) for pair in BY_FILE[name]["spot"]["gpu_layers"]]
    assert _log(name).gpu_layers == wanted


@pytest.mark.parametrize("name", sorted(n for n, e in BY_FILE.items() if "switched_to_gpu" in e["spot"]))
def test_layers_sent_to_gpu(name: str) -> None:
    """Every version's 'sent to GPU' message (falling back, 8 subgraphs, Unsupported on DLA, validation failed)."""
    spot = BY_FILE[name]["spot"]
    log = _log(name)
    assert [layer for layer, _ in log.switched_to_gpu] == spot["switched_to_gpu"]
    if "types" in spot:
        assert [kind for _, kind in log.switched_to_gpu] == spot["types"]
    assert log.split_at == spot.get("split_at", [])


def test_unknown_is_not_zero() -> None:
    """A log of DLA messages without a placement list says None, not 0, and says why."""
    log = orin_log.parse("[W] [TRT] Layer 'x' (REDUCE): Unsupported on DLA. Switching this layer's device type to GPU.")
    assert log.found and log.dla_subgraphs is None and log.gpu_layer_count is None
    assert any("--verbose" in warning for warning in log.warnings)
    empty = orin_log.parse("[I] Starting inference\n")
    assert not empty.found and empty.dla_subgraphs is None and empty.gpu_layer_count is None


def test_empty_gpu_list_of_a_new_log_is_zero() -> None:
    """8.4+ headers: a GPU header followed by another message is an empty list, not a list of that message."""
    text = (
        "[I] [TRT] ---------- Layers Running on DLA ----------\n"
        "[I] [TRT] [DlaLayer] {ForeignNode[/conv1/Conv.../fc/Gemm]}\n"
        "[I] [TRT] ---------- Layers Running on GPU ----------\n"
        "[I] [TRT] Total Activation Memory: 1024\n"
    )
    log = orin_log.parse(text)
    assert (log.dla_subgraphs, log.gpu_layer_count, log.warnings) == (1, 0, [])


def test_empty_dla_list_is_zero() -> None:
    """An FP32 build prints both headers with nothing on DLA: that is a stated 0 (yolo11n FP32 layout)."""
    text = (
        "[09/23/2025-01:35:17] [TRT] [I] ---------- Layers Running on DLA ----------\n"
        "[09/23/2025-01:35:17] [TRT] [I] ---------- Layers Running on GPU ----------\n"
        "[09/23/2025-01:35:17] [TRT] [I] [GpuLayer] Conv_0\n"
    )
    log = orin_log.parse(text)
    assert (log.dla_subgraphs, log.gpu_layer_count, log.gpu_layers) == (0, 1, [(None, "Conv_0")])


# ---------------------------------------------------------------- the predictor against the logs


def _tutorial_onnx(norm: str, folder: Path) -> Path:
    """jetson_dla_tutorial's ModelGN/ModelBN (README Steps 1 and 5), exported as its README does (dynamic batch)."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layers: list[Any] = []
            for cin, cout in ((3, 64), (64, 128), (128, 256), (256, 512)):
                layers += [
                    nn.Conv2d(cin, cout, 3, 2, 1),
                    nn.GroupNorm(8, cout) if norm == "gn" else nn.BatchNorm2d(cout),
                ]
                layers.append(nn.ReLU())
            self.cnn, self.pool, self.linear = nn.Sequential(*layers), nn.AdaptiveAvgPool2d((1, 1)), nn.Linear(512, 10)

        def forward(self, x: Any) -> Any:
            x = self.pool(self.cnn(x))
            return self.linear(x.view(x.shape[0], -1))

    path = folder / f"model_{norm}.onnx"
    with torch.no_grad():
        torch.onnx.export(
            Model().eval(),
            (torch.zeros(1, 3, 32, 32),),
            str(path),
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": {0: "batch_size"}, "output": {0: "batch_size"}},
            opset_version=17,
            dynamo=False,
        )
    return path


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], list[rules.Predicted]]:
    """The predictor on a tutorial model built with trtexec's --shapes=input:32x3x32x32."""
    folder = tmp_path_factory.mktemp("dla-tutorial")
    return lambda norm: rules.predict(_tutorial_onnx(norm, folder), "int8", shapes={"input": (32, 3, 32, 32)})


def _runs(predicted: list[rules.Predicted]) -> list[list[rules.Predicted]]:
    """The DLA subgraphs along graph order, without folded constants (they never run by themselves)."""
    runs: list[list[rules.Predicted]] = []
    previous = "GPU"
    for p in predicted:
        if p.folded:
            continue
        if p.device == "DLA" and previous == "DLA":
            runs[-1].append(p)
        elif p.device == "DLA":
            runs.append([p])
        previous = p.device
    return runs


def test_dynamic_batch_pinned_by_shapes_runs_on_dla(tutorial: Callable[[str], list[rules.Predicted]]) -> None:
    """The tutorial's dynamic-batch export, built with --shapes, ran on DLA: pinned shapes are static."""
    assert any(p.device == "DLA" for p in tutorial("bn"))
    unpinned = rules.predict(_tutorial_onnx("bn", Path(tempfile.mkdtemp())), "int8")
    assert {p.rule for p in unpinned} == {"dynamic"}


def test_model_bn_matches_its_log(tutorial: Callable[[str], list[rules.Predicted]]) -> None:
    """ModelBN: 2 DLA subgraphs (convolutions; the classifier Gemm), GlobalAveragePool and the flatten on GPU."""
    predicted = tutorial("bn")
    log = _log("orin_trt84_jetson_dla_tutorial_model_bn.log")
    assert rules.report([(p.op_type, p.device) for p in predicted]).dla_subgraphs == log.dla_subgraphs == 2
    (first, last), (gemm, _) = log.subgraph_bounds()
    runs = _runs(predicted)
    assert (
        [runs[0][0].op_type, runs[0][-1].op_type, runs[1][0].op_type]
        == [orin_log.op_type_of(first), orin_log.op_type_of(last), orin_log.op_type_of(gemm.split(" + ")[0])]
        == ["Conv", "Relu", "Gemm"]
    )
    gpu_runtime = [p.op_type for p in predicted if p.device == "GPU" and not p.folded]
    assert gpu_runtime == ["GlobalAveragePool", "Reshape"]  # the log: REDUCE GlobalAveragePool_8, SHUFFLE (the view)
    assert len(gpu_runtime) == log.gpu_layer_count


def test_model_gn_norm_affine_on_gpu(tutorial: Callable[[str], list[rules.Predicted]]) -> None:
    """ModelGN: GroupNorm's Reshape, InstanceNormalization, Reshape, Mul and Add on GPU; the log's 5 runs."""
    predicted = tutorial("gn")
    log = _log("orin_trt84_jetson_dla_tutorial_model_gn.log")
    first_group = [p.op_type for p in predicted if p.node.startswith("/cnn/cnn.1/") and not p.folded]
    # each [GpuLayer] name holds one ONNX node (Reshape_2, InstanceNormalization_5, Reshape_7, Mul_8, Add_9)
    logged = [re.search(r"\b([A-Za-z]+)_\d+\b", name).group(1) for _, name in log.gpu_layers[:5]]
    assert first_group == logged == ["Reshape", "InstanceNormalization", "Reshape", "Mul", "Add"]
    assert {p.device for p in predicted if p.node.startswith("/cnn/cnn.1/")} == {"GPU"}
    runs = _runs(predicted)
    bounds = [(orin_log.op_type_of(a), orin_log.op_type_of(b)) for a, b in log.subgraph_bounds()]
    assert [(run[0].op_type, run[-1].op_type) for run in runs[:5]] == bounds
    # Known disagreement (EVIDENCE.md): the log lists no 6th subgraph; the predictor puts the Gemm on DLA.
    assert len(runs) == log.dla_subgraphs + 1 and [p.op_type for p in runs[5]] == ["Gemm"]


@pytest.fixture(scope="module")
def yolo11n() -> list[rules.Predicted]:
    """YOLO11n from ultralytics' yolo11n.yaml (random weights), exported to ONNX as its engine export does."""
    pytest.importorskip("ultralytics")
    from ultralytics import YOLO

    from grader.core.images import pil_open_preserved

    with pil_open_preserved(), tempfile.TemporaryDirectory() as scratch:
        cwd = os.getcwd()
        os.chdir(scratch)  # ultralytics writes next to the (weightless) model: the working directory
        try:
            exported = YOLO("yolo11n.yaml").export(format="onnx", imgsz=640, opset=17)
            return rules.predict(Path(scratch) / exported)
        finally:
            os.chdir(cwd)


@pytest.mark.parametrize(
    "name", ["orin_trt852_ultralytics18012_yolo11n_attn.log", "orin_trt852_ultralytics18012_yolo11n_head.log"]
)
def test_yolo11n_layers_the_log_sends_to_gpu(yolo11n: list[rules.Predicted], name: str) -> None:
    """Every ONNX layer the YOLO11n log sends to GPU (attention Reshape, head Concat/Split/DFL) is predicted GPU."""
    devices = {p.node: p for p in yolo11n}
    named = [layer for layer, _ in _log(name).switched_to_gpu if layer in devices]
    assert named, "the export has none of the log's layer names"
    assert {layer: devices[layer].device for layer in named} == dict.fromkeys(named, "GPU")
    if "attn" in name:
        assert devices["/model.10/m/m.0/attn/Reshape"].rule == "shuffle.slice_concat"


def test_model_bn_modified_average_pool_on_dla(tmp_path: Path) -> None:
    """README Step 9: GlobalAveragePool -> AveragePool 2x2 puts the pool on DLA; the log's one subgraph ends at the Gemm."""
    onnx = pytest.importorskip("onnx")
    model = onnx.load(str(_tutorial_onnx("bn", tmp_path)))
    for node in model.graph.node:  # what the README's graph-surgeon loop does, with the onnx package
        if node.op_type == "GlobalAveragePool":
            node.op_type = "AveragePool"
            node.attribute.append(onnx.helper.make_attribute("kernel_shape", [2, 2]))
    path = tmp_path / "model_bn_modified.onnx"
    onnx.save(model, str(path))
    predicted = rules.predict(path, "int8", shapes={"input": (32, 3, 32, 32)})
    log = _log("orin_trt84_jetson_dla_tutorial_model_bn_modified.log")
    ((first, last),) = log.subgraph_bounds()
    runtime = [p for p in predicted if not p.folded]
    assert (runtime[0].op_type, runtime[-1].op_type) == (orin_log.op_type_of(first), orin_log.op_type_of(last))
    assert {p.op_type: p.device for p in runtime}["AveragePool"] == "DLA"
    # Known disagreement (EVIDENCE.md): TensorRT 8.4 ran the view's 4-D -> 2-D Reshape inside the Gemm's
    # subgraph (1 subgraph); the 10.3 rules send it to GPU, so the predictor makes 2.
    assert [p.op_type for p in runtime if p.device == "GPU"] == ["Reshape"]
    assert len(_runs(predicted)) == log.dla_subgraphs + 1
