"""Reading TensorRT's DLA messages: build logs of every version, and trtexec's failure on boards without DLA.

What real logs hold (the corpus in ``real_files/dla/``, its manifest says where each came from):

* TensorRT 8.4-10, a placement list (INFO in 8.x, still printed by 10.x; ``--verbose`` adds the rest)::

      [I] [TRT] ---------- Layers Running on DLA ----------
      [I] [TRT] [DlaLayer] {ForeignNode[/conv1/Conv.../layer4/layer4.2/relu_2/Relu]}
      [I] [TRT] ---------- Layers Running on GPU ----------
      [I] [TRT] [GpuLayer] REDUCE: /avgpool/GlobalAveragePool

  (8.2/8.3 print ``[GpuLayer] name`` without the type), and in verbose builds
  ``Number of DLA node candidates offloaded : 2 out of 2`` and
  ``{ForeignNode[...]} successfully offloaded to DLA.``;
* TensorRT 7 / 8.0-8.2: ``--------------- Layers running on DLA:`` followed by ``{a,b}, {c,d},`` groups
  (one per subgraph) and ``--------------- Layers running on GPU:`` followed by ``a, b, c``;
* layers sent to GPU, by version: ``Default DLA is enabled but layer X is not supported on DLA, falling back
  to GPU.`` (<= 8.2), ``DLA supports only 8 subgraphs per DLA core. Switching to GPU for layer X`` (<= 8.2),
  ``Layer 'X' (TYPE): Unsupported on DLA. Switching this layer's device type to GPU.`` (8.5+), and
  ``Validation failed for DLA layer: X. Switching to GPU fallback.`` (8.5+).

Unknown is never 0: a count the log does not state is None, with a warning saying why.
On a board with fewer cores than ``--useDLACore=N`` asks for, trtexec stops with
``Cannot create DLA engine, N not available``. Pure text: usable on every machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CANDIDATES = re.compile(r"Number of DLA node candidates offloaded\s*:\s*(\d+)\s+out of\s+(\d+)")
_OFFLOADED = re.compile(r"\{ForeignNode\[(.*)\]\}\s+successfully offloaded to DLA")
_SWITCHED = (  # (pattern, whether group 2 is TensorRT's layer type)
    re.compile(r"Layer '(.+?)' \((\w+)\): Unsupported on DLA"),  # 8.5+
    re.compile(r"Validation failed for DLA layer: (.+?)\. Switching to GPU fallback"),  # 8.5+
    re.compile(
        r"Default DLA is enabled but layer (.+?) is not (?:supported|running) on DLA, falling back to GPU"
    ),  # <= 8.2
    re.compile(r"DLA supports only \d+ subgraphs per DLA core\. Switching to GPU for layer (.+?)\s*$"),  # <= 8.2
)
_NOTHING_ON_DLA = re.compile(r"no layer in the network can run on DLA")
_SPLIT_AT = re.compile(r"Splitting DLA subgraph at: (.+?) because")
_HEADER = re.compile(r"-{5,}\s*Layers [Rr]unning on (DLA|GPU)\s*(:)?\s*(?:-{5,})?\s*$")  # group 2: 7.x-8.2 style
_DLA_LAYER = re.compile(r"\[DlaLayer\]\s*\{ForeignNode\[(.*)\]\},?\s*$")
_GPU_LAYER = re.compile(r"\[GpuLayer\]\s+(?:([A-Z][A-Z0-9_]*):\s+)?(\S.*?)\s*$")
_PREFIX = re.compile(
    r"^[\s#`]*(?:\[\d\d/\d\d/\d{4}-\d\d:\d\d:\d\d\]\s*)?"
    r"(?:(?:\[[IWEVF]\]|\[TRT\]|\[TensorRT\]|(?:INFO|WARNING|ERROR|VERBOSE):)\s*:?\s*)*"
)
_DLA_WORDS = re.compile(r"\bDLA\b|useDLACore|DLACore")
_NO_DLA_OPTION = re.compile(r"^DLACore:\s*$")
_NO_DLA = re.compile(r"Cannot create DLA engine,\s*(-?\d+)\s+not available")
_SUFFIX = re.compile(r"_\d+$")


@dataclass
class DlaLog:
    """What a DLA build log says about placement; None where the log does not say."""

    candidates: tuple[int, int] | None = None  # (offloaded, candidates)
    offloaded: list[str] = field(default_factory=list)  # DLA subgraphs, "first...last" as the log writes them
    switched_to_gpu: list[tuple[str, str | None]] = field(default_factory=list)  # (layer, TensorRT type or None)
    gpu_layers: list[tuple[str | None, str]] = field(default_factory=list)  # (type or None, name), internal ones too
    dla_list: list[str] | None = None  # the "Layers running on DLA" list; None when the log has none
    gpu_list_seen: bool = False  # a "Layers running on GPU" header or [GpuLayer] line was read
    split_at: list[str] = field(default_factory=list)  # "Splitting DLA subgraph at: X"
    nothing_on_dla: bool = False  # "no layer in the network can run on DLA"
    cut: set[str] = field(default_factory=set)  # lists whose items the text does not hold ("DLA", "GPU")
    old_style: set[str] = field(default_factory=set)  # lists under a 7.x-8.2 header ("Layers running on X:")
    dla_messages: bool = False  # any line mentions DLA
    warnings: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        """Whether the log holds any DLA placement information."""
        return bool(
            self.candidates
            or self.offloaded
            or self.switched_to_gpu
            or self.gpu_layers
            or self.split_at
            or self.dla_list is not None
            or self.gpu_list_seen
            or self.nothing_on_dla
        )

    @property
    def dla_subgraphs(self) -> int | None:
        """DLA subgraphs (loadables) the build made, or None when the log does not say."""
        if self.dla_list is not None and "DLA" not in self.cut:
            return len(self.dla_list)
        if self.candidates:
            return self.candidates[0]
        if self.offloaded:
            return len(self.offloaded)
        if self.nothing_on_dla:
            return 0
        return None

    @property
    def gpu_layer_count(self) -> int | None:
        """Layers the placement list puts on GPU, or None when the log has no (whole) list."""
        if not self.gpu_list_seen or "GPU" in self.cut:
            return None
        return len(self.gpu_layers)

    def subgraph_bounds(self) -> list[tuple[str, str]]:
        """(first, last) layer name of each DLA subgraph, from the list (8.4+) or the offload messages."""
        names = self.dla_list if self.dla_list is not None else self.offloaded
        return [_bounds(name) for name in names]


def _bounds(node: str) -> tuple[str, str]:
    """``a...b`` -> (a, b); a subgraph of one fused node -> (node, node); ``{a,b,c}`` -> (a, c)."""
    if node.startswith("{") and node.endswith("}"):
        parts = [p.strip() for p in node[1:-1].split(",") if p.strip()]
        return (parts[0], parts[-1]) if parts else (node, node)
    head, sep, tail = node.partition("...")
    return (head, tail) if sep else (node, node)


def _message(line: str) -> str:
    """The message of a log line, without timestamp, severity and ``[TRT]`` prefixes (and a shell comment's #)."""
    return _PREFIX.sub("", line, count=1).strip()


def _top_level_split(text: str, opener: str = "([", closer: str = ")]") -> list[str]:
    """Comma-separated items, ignoring commas inside brackets (``PWN(a, b)`` stays one item)."""
    items, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in opener:
            depth += 1
        elif char in closer:
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:index].strip())
            start = index + 1
    items.append(text[start:].strip())
    return [item for item in items if item]


def _old_list_item(log: DlaLog, section: str, message: str) -> bool:
    """Read the line after a TensorRT 7/8.0-8.2 list header (``{a,b}, {c},`` on DLA; ``a, b`` on GPU)."""
    if section == "DLA" and log.dla_list is not None and message.startswith("{"):
        groups = re.findall(r"\{[^{}]*\}", message)
        log.dla_list.extend(groups)
        return bool(groups)
    if section == "GPU" and not message.startswith(("[", "-")):
        log.gpu_layers.extend((None, name) for name in _top_level_split(message))
        return True
    return False


def _read_line(log: DlaLog, message: str, section: str | None) -> str | None:
    """Fold one non-empty message into ``log``; returns the list section the next line belongs to."""
    if header := _HEADER.search(message):
        if section:
            log.cut.discard(section)  # a list followed by the next header is whole (maybe empty)
        section = header.group(1)
        if section == "DLA":
            log.dla_list = []
        log.gpu_list_seen |= section == "GPU"
        log.cut.add(section)  # until an item or another line shows the list is whole
        if header.group(2):
            log.old_style.add(section)
        return section
    if match := _DLA_LAYER.search(message):
        (log.dla_list if log.dla_list is not None else log.offloaded).append(match.group(1))
        log.cut.discard("DLA")
        return "DLA"
    if match := _GPU_LAYER.search(message):
        log.gpu_layers.append((match.group(1), match.group(2)))
        log.gpu_list_seen = True
        log.cut.discard("GPU")
        return "GPU"
    if section in log.cut & log.old_style and _old_list_item(log, section, message):  # the line after the header
        log.cut.discard(section)
        return section
    if section:
        log.cut.discard(section)  # another message ends the list: it is whole
    _read_message(log, message)
    return None


def _read_message(log: DlaLog, message: str) -> None:
    """Candidates, offload and 'sent to GPU' messages of every version."""
    # trtexec echoes its options; an empty "DLACore: " is a build that asked for no DLA.
    log.dla_messages |= bool(_DLA_WORDS.search(message)) and not _NO_DLA_OPTION.match(message)
    if match := _CANDIDATES.search(message):
        log.candidates = (int(match.group(1)), int(match.group(2)))
    elif match := _OFFLOADED.search(message):
        log.offloaded.append(match.group(1))
    elif match := _SPLIT_AT.search(message):
        log.split_at.append(match.group(1))
    elif _NOTHING_ON_DLA.search(message):
        log.nothing_on_dla = True
    else:
        for pattern in _SWITCHED:
            if match := pattern.search(message):
                kind = match.group(2) if pattern.groups > 1 else None
                log.switched_to_gpu.append((match.group(1), kind))
                return


def parse(text: str) -> DlaLog:
    """The DLA placement facts in a TensorRT/trtexec log of any version (7.x to 10.x)."""
    log = DlaLog()
    section: str | None = None
    for line in text.splitlines():
        message = _message(line)
        if message:  # TensorRT 7 and nvinfer print empty INFO lines around the lists
            section = _read_line(log, message, section)
    log.warnings = _warnings(log)
    return log


def _warnings(log: DlaLog) -> list[str]:
    """Why a count is unknown, for a person reading ``grader inspect``."""
    out = []
    if log.dla_messages and log.dla_list is None and not log.gpu_list_seen and not log.candidates:
        unknown = "GPU layers" if log.dla_subgraphs is not None else "DLA subgraphs and of GPU layers"
        out.append(
            "DLA build messages but no placement list ('Layers Running on DLA'): is this a --verbose log, and "
            f"is it whole? The number of {unknown} is unknown."
        )
    for section in sorted(log.cut):
        out.append(f"the 'Layers running on {section}' list ends where the text ends: it was cut, its count is unknown")
    if log.candidates and log.dla_list is not None and "DLA" not in log.cut and log.candidates[0] != len(log.dla_list):
        out.append(
            f"the log offloads {log.candidates[0]} DLA candidates but lists {len(log.dla_list)} DLA subgraphs: "
            "the list (the engine's final placement) is used"
        )
    return out


def op_type_of(layer_name: str) -> str:
    """The ONNX op type in an exported layer name: ``/avgpool/GlobalAveragePool`` -> ``GlobalAveragePool``."""
    return _SUFFIX.sub("", layer_name.rstrip("/").rsplit("/", 1)[-1])


def explain_trtexec_dla(output: str, command: str = "trtexec --useDLACore=0") -> str | None:
    """A student-facing explanation of a known trtexec DLA failure in ``output``, or None."""
    if match := _NO_DLA.search(output):
        core = match.group(1)
        return (
            f"`{command}` stopped with 'Cannot create DLA engine, {core} not available': this board has no "
            f"DLA core {core}. That is expected on a Jetson Orin Nano, which has no DLA at all (AGX Orin and "
            "Orin NX 16GB have 2 cores, Orin NX 8GB has 1). Nothing is wrong with your model or command. "
            "On this board, study DLA with dla_placement() (the simulator) and build_dla_engine(), which "
            "applies the DLA constraints (FP16, GPU fallback) on the GPU; run the same trtexec command on a "
            "board with DLA to see the real placement."
        )
    if "Unknown option" in output:
        option = re.search(r"Unknown option:?\s*(\S+)", output)
        return (
            f"trtexec (TensorRT 10.3) rejected {option.group(1) if option else 'an option'}: --buildOnly, "
            "--workspace and --explicitBatch were removed in TensorRT 10 (use --skipInference and "
            "--memPoolSize=workspace:N)."
        )
    return None
