"""The static check of TensorRT-facing code: real files pass, planted TensorRT 8 mistakes fail.

CI can never run TensorRT, so ``mypy --config-file mypy-tensorrt.ini`` checks the code that runs
on the Jetson against TensorRT 10.x stubs (``typings/``). These tests prove the check has
teeth: a removed or misspelt TensorRT attribute fails it, with the attribute named.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.paths import REPO
from tests.conftest import mutate

CONFIG = REPO / "mypy-tensorrt.ini"
SOLUTION = REPO / "solutions" / "practice4" / "trt_infer.py"
BACKEND = REPO / "grader" / "backends" / "tensorrt.py"
ORT_BACKEND = REPO / "grader" / "backends" / "onnxruntime.py"
# onnxruntime ships no type information: its own calls go unchecked, the lab's code around them does not.
UNTYPED_ORT = ("--ignore-missing-imports",)

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None,
    reason="mypy is not installed: pip install -e '.[dev]' (the dev extra lists mypy)",
)

PLANTED = '''\
"""TensorRT 8 code, as old blog posts write it."""
import tensorrt as trt


def input_shape(path: str) -> tuple[int, ...]:
    """The first binding's shape."""
    runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    with open(path, "rb") as handle:
        engine = runtime.deserialize_cuda_engine(handle.read())
    return tuple(engine.get_binding_shape(0))
'''


_CACHE: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def _mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One mypy cache for this module's runs (numpy's stubs are analysed once, not per run)."""
    _CACHE[:] = [tmp_path_factory.mktemp("mypy-cache")]


def _mypy(*files: Path, options: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run the lab's TensorRT type check (on ``files``, else on the files the config lists)."""
    cache = ["--cache-dir", str(_CACHE[0])] if _CACHE else []
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(CONFIG), *cache, *options, *map(str, files)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_tensorrt_facing_code_passes() -> None:
    """The Practice 4 solution and grader/backends/tensorrt.py type-check against TensorRT 10.x."""
    done = _mypy()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found in 2 source files" in done.stdout


def test_planted_get_binding_shape_fails(tmp_path: Path) -> None:
    """A file calling engine.get_binding_shape(0) (removed in TensorRT 10) fails, naming the attribute."""
    planted = tmp_path / "old_blog.py"
    planted.write_text(PLANTED, encoding="utf-8")
    done = _mypy(planted)
    assert done.returncode == 1, done.stdout + done.stderr
    assert '"ICudaEngine" has no attribute "get_binding_shape"' in done.stdout
    assert "old_blog.py:10:" in done.stdout


# (file, TensorRT 10 code, its TensorRT 8 or misspelt version, the error mypy must report)
MUTATIONS = {
    "solution_binding_shape": (
        SOLUTION,
        "shape = tuple(engine.get_tensor_shape(name))",
        "shape = tuple(engine.get_binding_shape(index))",
        '"ICudaEngine" has no attribute "get_binding_shape"',
    ),
    "solution_execute_async_v2": (
        SOLUTION,
        "buffers.context.execute_async_v3(buffers.stream.handle)",
        "buffers.context.execute_async_v2([], buffers.stream.handle)",
        '"IExecutionContext" has no attribute "execute_async_v2"',
    ),
    "solution_misspelt_pycuda": (
        SOLUTION,
        "cuda.memcpy_htod_async(buffers.device[name]",
        "cuda.memcpy_htod_asnyc(buffers.device[name]",
        'Module has no attribute "memcpy_htod_asnyc"',
    ),
    "backend_workspace": (
        BACKEND,
        "config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_mib << 20)",
        "config.max_workspace_size = workspace_mib << 20",
        '"IBuilderConfig" has no attribute "max_workspace_size"',
    ),
    "backend_build_engine": (
        BACKEND,
        "serialized = parsed.builder.build_serialized_network(parsed.network, config)",
        "serialized = parsed.builder.build_engine(parsed.network, config)",
        '"Builder" has no attribute "build_engine"',
    ),
    "backend_num_bindings": (
        BACKEND,
        "self.names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]",
        "self.names = [engine.get_tensor_name(i) for i in range(engine.num_bindings)]",
        '"ICudaEngine" has no attribute "num_bindings"',
    ),
}


# (file, a runner method, that method misspelt, the error mypy must report where the runner is used as a Runner)
RUNNER_MUTATIONS = {
    "tensorrt_runner": (
        BACKEND,
        'def output_specs(self) -> list[TensorSpec]:\n        """The engine\'s outputs',
        'def output_spec(self) -> list[TensorSpec]:\n        """The engine\'s outputs',
        'Argument 1 to "run_logits" has incompatible type "TensorRTRunner"; expected "Runner"',
    ),
    "onnxruntime_runner": (
        ORT_BACKEND,
        'def output_specs(self) -> list[TensorSpec]:\n        """The model\'s outputs',
        'def output_spec(self) -> list[TensorSpec]:\n        """The model\'s outputs',
        'Argument 1 to "run_logits" has incompatible type "OnnxRuntimeRunner"; expected "Runner"',
    ),
}


def test_onnxruntime_runner_passes() -> None:
    """grader/backends/onnxruntime.py type-checks, its runner included as a grader.backends.Runner."""
    done = _mypy(ORT_BACKEND, options=UNTYPED_ORT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", sorted(RUNNER_MUTATIONS))
def test_runner_off_the_protocol_fails(name: str, tmp_path: Path) -> None:
    """Both runners are checked against the Runner protocol: a misspelt method of either fails the check."""
    source, old, new, message = RUNNER_MUTATIONS[name]
    copy = tmp_path / f"mutated_{source.name}"
    copy.write_text(mutate(source.read_text(encoding="utf-8"), old, new), encoding="utf-8")
    done = _mypy(copy, options=UNTYPED_ORT)
    assert done.returncode == 1, done.stdout + done.stderr
    assert message in done.stdout, done.stdout


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutated_real_file_fails(name: str, tmp_path: Path) -> None:
    """The real files are really checked: one TensorRT 8 call or misspelling planted in them fails."""
    source, old, new, message = MUTATIONS[name]
    copy = tmp_path / f"mutated_{source.name}"  # not tensorrt.py: that would shadow the stubs
    copy.write_text(mutate(source.read_text(encoding="utf-8"), old, new), encoding="utf-8")
    done = _mypy(copy)
    assert done.returncode == 1, done.stdout + done.stderr
    assert message in done.stdout, done.stdout


def test_stubs_are_not_importable_at_run_time() -> None:
    """typings/ is for mypy only: run from the repository, tensorrt is found only where it is installed."""
    code = (
        "import importlib.util\n"
        "spec = importlib.util.find_spec('tensorrt')\n"
        "print(repr(spec and spec.origin), list(spec.submodule_search_locations or []) if spec else [])\n"
        "from grader.backends import requirements\n"
        "print(requirements.capability('tensorrt').available)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "typings" not in done.stdout, done.stdout
    found, available = done.stdout.splitlines()
    if found.startswith("None"):  # no TensorRT on this machine (CI): the grader must say so
        assert available == "False"
    assert all(path.suffix == ".pyi" for path in (REPO / "typings").rglob("*.py*")), "typings/ must hold stubs only"
