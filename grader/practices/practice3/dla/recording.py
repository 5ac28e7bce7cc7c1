"""Recording stand-in for TensorRT's ``Builder`` and ``IBuilderConfig``: grades ``configure_dla`` on CPU.

This is the one stand-in the lab allows (Practice 3's issue asks for it), and it is only a
recorder. ``configure_dla(builder, config, ...)`` decides which TensorRT settings a DLA
build needs; whether it asked for the right ones does not depend on TensorRT, so the suite
hands it:

* ``RecordingBuilder(num_DLA_cores)``: a board with 2 DLA cores (AGX Orin, Orin NX 16GB) or
  0 (Orin Nano). It offers ``num_DLA_cores`` (and ``max_DLA_batch_size``) and nothing else:
  there is no ``create_network`` or ``build_serialized_network``, so nothing can be built;
* ``RecordingConfig()``: starts as TensorRT's config does (default device GPU, ``DLA_core``
  -1, no flags) and records every ``default_device_type``/``DLA_core`` assignment and every
  ``set_flag``/``clear_flag`` call in ``calls``;
* ``RecordingTensorRT()``: the few enums the student's code names (``DeviceType``,
  ``BuilderFlag``, ``MemoryPoolType``). The student file gets it in the two ways the lab
  teaches: through its module attribute ``trt`` (the stub's ``_trt()`` imports the real
  ``tensorrt`` only when ``trt`` is unset), and, on a machine without TensorRT, as what
  ``import tensorrt as trt`` gives (the course text's way) through ``standing_in_for_tensorrt``:
  a ``sys.modules`` entry that exists only while the graded call runs. The suite sets both for
  the call and restores them afterwards; where a real TensorRT is installed, ``import tensorrt``
  is never touched.

The real TensorRT build (``build_dla_engine``) is graded on the Jetson with TensorRT itself.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

STANDIN = "the grader's recording stand-in for TensorRT (it records settings, it builds nothing)"
MODULE = "tensorrt"


class DeviceType(enum.IntEnum):
    """``trt.DeviceType``."""

    GPU = 0
    DLA = 1


class BuilderFlag(enum.IntEnum):
    """``trt.BuilderFlag`` (TensorRT 10.3 names)."""

    FP16 = 0
    INT8 = 1
    DEBUG = 2
    GPU_FALLBACK = 3
    REFIT = 4
    DISABLE_TIMING_CACHE = 5
    TF32 = 6
    SPARSE_WEIGHTS = 7
    SAFETY_SCOPE = 8
    OBEY_PRECISION_CONSTRAINTS = 9
    PREFER_PRECISION_CONSTRAINTS = 10
    DIRECT_IO = 11
    REJECT_EMPTY_ALGORITHMS = 12
    VERSION_COMPATIBLE = 13
    EXCLUDE_LEAN_RUNTIME = 14
    FP8 = 15
    ERROR_ON_TIMING_CACHE_MISS = 16
    BF16 = 17
    DISABLE_COMPILATION_CACHE = 18
    STRIP_PLAN = 19
    REFIT_IDENTICAL = 20
    WEIGHT_STREAMING = 21


class MemoryPoolType(enum.IntEnum):
    """``trt.MemoryPoolType``."""

    WORKSPACE = 0
    DLA_MANAGED_SRAM = 1
    DLA_LOCAL_DRAM = 2
    DLA_GLOBAL_DRAM = 3
    TACTIC_DRAM = 4


def name_of(value: Any) -> str:
    """An enum value's name, whether from this stand-in or the real tensorrt module."""
    return str(getattr(value, "name", value))


class RecordingTensorRT:
    """The enums ``configure_dla`` may name; any other attribute says what this object is."""

    DeviceType = DeviceType
    BuilderFlag = BuilderFlag
    MemoryPoolType = MemoryPoolType
    __version__ = "recording stand-in"

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"trt.{name} is not available here: on this machine without TensorRT, trt is {STANDIN}. "
            "configure_dla() only needs trt.DeviceType and trt.BuilderFlag; TensorRT objects such as "
            "trt.Logger or trt.Builder belong in build_dla_engine(), which is graded on the Jetson."
        )


def _tensorrt_entries() -> dict[str, Any]:
    """``sys.modules`` entries of ``tensorrt`` and its submodules."""
    return {name: value for name, value in sys.modules.items() if name == MODULE or name.startswith(MODULE + ".")}


@contextmanager
def standing_in_for_tensorrt(standin: RecordingTensorRT, *, installed: bool) -> Iterator[None]:
    """Inside the block, ``import tensorrt`` gives ``standin``, unless a real TensorRT is ``installed``.

    The entry is removed (and whatever was there before put back) when the block ends, however it
    ends, so the grader's own TensorRT detection never sees the stand-in.
    """
    if installed:  # the real module is what the student's code imports: never shadow it
        yield
        return
    before = _tensorrt_entries()
    sys.modules[MODULE] = standin  # type: ignore[assignment] - `import` accepts any object here
    try:
        yield
    finally:
        for name in _tensorrt_entries():
            del sys.modules[name]
        sys.modules.update(before)


class RecordingBuilder:
    """A board with ``num_DLA_cores`` DLA cores; builds nothing."""

    def __init__(self, num_DLA_cores: int) -> None:  # noqa: N803 - TensorRT's attribute name
        object.__setattr__(self, "num_DLA_cores", num_DLA_cores)
        object.__setattr__(self, "max_DLA_batch_size", 4096 if num_DLA_cores else 1)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"builder.{name} is not available while configure_dla() is graded: builder is {STANDIN}. "
            "configure_dla() only reads builder.num_DLA_cores; creating networks and building happen "
            "in build_dla_engine()."
        )

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"configure_dla() set builder.{name}: it should only read builder.num_DLA_cores.")


class RecordingConfig:
    """Records what is asked of a builder config, starting from TensorRT's defaults."""

    _SETTABLE = ("default_device_type", "DLA_core")

    def __init__(self) -> None:
        object.__setattr__(self, "calls", [])
        object.__setattr__(self, "_state", {"default_device_type": DeviceType.GPU, "DLA_core": -1})
        object.__setattr__(self, "_flags", set())

    # -- attributes TensorRT's IBuilderConfig has and configure_dla may set
    def __getattr__(self, name: str) -> Any:
        state = object.__getattribute__(self, "_state")
        if name in state:
            return state[name]
        raise AttributeError(
            f"config.{name} is not available while configure_dla() is graded: config is {STANDIN}. "
            "configure_dla() needs config.default_device_type, config.DLA_core and config.set_flag()."
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "flags":
            self._set_mask(int(value))
            return
        if name not in self._SETTABLE:
            raise AttributeError(
                f"configure_dla() set config.{name}, which {STANDIN} does not offer: set "
                "config.default_device_type, config.DLA_core and flags (config.set_flag)."
            )
        self.calls.append(("set", name, value))
        self._state[name] = value

    @property
    def flags(self) -> int:
        """The flag bitmask, as TensorRT's ``config.flags``."""
        return sum(1 << int(flag) for flag in self._flags)

    def _set_mask(self, mask: int) -> None:
        """``config.flags = mask``: recorded as the set/clear calls it amounts to."""
        for flag in BuilderFlag:
            wanted = bool(mask & (1 << int(flag)))
            if wanted != (flag in self._flags):
                self.set_flag(flag) if wanted else self.clear_flag(flag)

    def set_flag(self, flag: Any) -> None:
        """Record ``config.set_flag(flag)``."""
        self.calls.append(("set_flag", name_of(flag)))
        self._flags.add(BuilderFlag[name_of(flag)] if name_of(flag) in BuilderFlag.__members__ else flag)

    def clear_flag(self, flag: Any) -> None:
        """Record ``config.clear_flag(flag)``."""
        self.calls.append(("clear_flag", name_of(flag)))
        self._flags.discard(BuilderFlag[name_of(flag)] if name_of(flag) in BuilderFlag.__members__ else flag)

    def get_flag(self, flag: Any) -> bool:
        """Whether ``flag`` is set now."""
        return name_of(flag) in self.flag_names()

    def set_memory_pool_limit(self, pool: Any, size: int) -> None:
        """Record a memory pool limit (allowed, not needed)."""
        self.calls.append(("set_memory_pool_limit", name_of(pool), size))

    # -- what the suite reads
    def flag_names(self) -> set[str]:
        """Names of the flags set now."""
        return {name_of(flag) for flag in self._flags}

    def device_name(self) -> str:
        """``default_device_type``'s name now (GPU, DLA, or whatever else was assigned)."""
        return name_of(self._state["default_device_type"])

    def core(self) -> Any:
        """``DLA_core`` now."""
        return self._state["DLA_core"]

    def describe(self) -> str:
        """What configure_dla asked for, in TensorRT's terms, for messages."""
        if not self.calls:
            return "nothing (no setting changed)"
        parts = []
        for call in self.calls:
            if call[0] == "set":
                parts.append(f"config.{call[1]} = {_show(call[2])}")
            else:
                parts.append(f"config.{call[0]}({', '.join(_show(a) for a in call[1:])})")
        return "; ".join(parts)


def _show(value: Any) -> str:
    """``trt.DeviceType.DLA`` for enums, repr otherwise."""
    if isinstance(value, enum.Enum):
        return f"trt.{type(value).__name__}.{value.name}"
    if isinstance(value, str) and value in BuilderFlag.__members__:
        return f"trt.BuilderFlag.{value}"
    if isinstance(value, str) and value in MemoryPoolType.__members__:
        return f"trt.MemoryPoolType.{value}"
    return repr(value)
