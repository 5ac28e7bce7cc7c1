"""Practice 5: read what trtexec says about an engine, and show where the time goes.

Inputs come from one trtexec run on the Jetson (TensorRT 10.3):

    trtexec --loadEngine=m.engine --dumpProfile --separateProfileRun --dumpLayerInfo \\
            --profilingVerbosity=detailed --exportProfile=m.profile.json --exportLayerInfo=m.layer.json > m.log

Without --separateProfileRun, trtexec 10.3 prints no performance summary in a profiled run
("The e2e network timing is not reported ..."); with it, one run gives the summary and the profile.

Check your work:  pytest assignments/practice5
"""

from __future__ import annotations

import json  # noqa: F401  (you will need these)
import re  # noqa: F401
from collections import Counter, defaultdict  # noqa: F401
from dataclasses import dataclass
from pathlib import Path
from typing import Any  # noqa: F401


@dataclass
class LayerTime:
    """One layer of a trtexec profile; times in ms, ``percent`` on trtexec's 0-100 scale.

    Keep this dataclass as it is: the grader builds LayerTime objects itself to test summarize().
    """

    name: str
    total_ms: float  # "timeMs": summed over every profiled iteration
    average_ms: float  # "averageMs": one inference
    median_ms: float | None  # "medianMs"; None where trtexec reports no median (TensorRT 7, early 8.x)
    percent: float  # "percentage": share of the summed layer time, 0-100 (not 0-1)


@dataclass
class LayerInfo:
    """One engine layer: its name, TensorRT layer type and the precision of its first input/output.

    Precisions are "FP32", "FP16", "INT8", "BF16", "FP8", "INT32" or "BOOL"; None for a layer
    without inputs (or outputs). Keep this dataclass as it is.
    """

    name: str
    layer_type: str
    input_precision: str | None
    output_precision: str | None


def precision_of(format_string: str) -> str | None:
    """Helper (not graded on its own): the precision named in a ``Format/Datatype`` string.

    Examples: "Row major linear FP32" -> "FP32"; "Channel major FP16 format where channel % 8 == 0"
    -> "FP16"; "Thirty-two wide channel vectorized row major Int8 format" -> "INT8"; TensorRT 10's
    short forms: "Half" -> "FP16", "Float" -> "FP32", "BFloat16" -> "BF16", "Bool" -> "BOOL";
    also "Row major linear FP8 format" -> "FP8", "Row major linear Int32" -> "INT32",
    "Row major linear BOOL" -> "BOOL". None when the string names no data type.
    """
    # TODO: 把字串切成單字（re.findall(r"[A-Za-z0-9]+", format_string)），
    #       用一個 dict 把資料型別的單字（FP32、Float、FP16、Half、Int8、BFloat16...）對應到精度名稱。
    #       注意 "BFloat16" 裡面有 "Float"：以「整個單字」比對，不要用 `in` 找子字串。
    raise NotImplementedError


def parse_profile(path: str | Path) -> list[LayerTime]:
    """Per-layer times from an ``--exportProfile`` JSON file, in file (execution) order.

    The file is a JSON array: first ``{"count": N}`` (N profiled iterations: not a layer, skip
    it), then one record per layer with "name", "timeMs" (sum over the N iterations),
    "averageMs", "medianMs" and "percentage" (0-100). Zero-time layers are listed too: keep them.
    Keep names exactly as written: trtexec writes them unescaped, and raw \\x1e / \\x1f characters
    were seen in TensorRT 8.6 EA files (TensorRT 10's layer info escapes them as \\u001e).
    ``path`` may be a ``str`` or a ``pathlib.Path``.
    """
    # TODO 1: text = Path(path).read_text(encoding="utf-8")；
    #         用 json.loads(text, strict=False) 解析：trtexec 不會跳脫名稱裡的控制字元（\x1e、\x1f），
    #         嚴格模式的 json.load 會拒絕含原始控制字元的檔案（TensorRT 8.6 EA 的真實檔案就有）。
    # TODO 2: 略過沒有 "name" 的紀錄（{"count": N}），其餘每筆建立一個 LayerTime：
    #         total_ms <- "timeMs"、average_ms <- "averageMs"、median_ms <- "medianMs"、percent <- "percentage"（不要除以 100）。
    raise NotImplementedError


def parse_profile_log(text: str) -> list[LayerTime]:
    """Per-layer times from the ``--dumpProfile`` table in trtexec's stdout (the Total row excluded).

    The table, each line behind a ``[date-time] [I] `` prefix::

        === Profile (290 iterations ) ===
           Time(ms)     Avg.(ms)   Median(ms)   Time(%)   Layer
              29.17       0.1006       0.0973       1.7   Reformatting CopyNode for Input Tensor 0 to {ForeignNode[...]}
            1707.30       5.8873       5.8619     100.0   Total

    Names may hold spaces, braces, brackets, '*' and '+'. Zero-time layers are not printed.
    """
    # TODO 1: 逐行讀 text（用 text.split("\n")；str.splitlines() 也會在 \x1e 斷行），
    #         先去掉 "[01/20/2024-20:25:39] [I] " 這種前綴（re.sub(r"^\[[^\]]*\] \[[A-Z]\] ?", "", line)）。
    # TODO 2: 看到 "=== Profile (" 之後才開始讀表格；用正規表示式抓「四個數字 + 名稱」，
    #         名稱是 Time(%) 欄之後的全部文字（去掉行尾空白）。
    # TODO 3: 名稱是 "Total" 的那一列是整張表的總和，不是 layer：不要放進結果（表格到此結束）。
    raise NotImplementedError


def parse_layer_info(path: str | Path) -> list[LayerInfo]:
    """Layers of an ``--exportLayerInfo`` JSON file, in order.

    The file is ``{"Layers": [...], "Bindings": [...]}`` (TensorRT 11 writes "I/O Tensors"
    instead of "Bindings": accept both). Each layer has "Name", "LayerType", "Inputs" and
    "Outputs"; every tensor's "Format/Datatype" string names its precision. A layer's
    input_precision / output_precision is that of its first input / output (None when the list
    is empty). When "Layers" holds plain strings, the engine was built without
    ``--profilingVerbosity=detailed``: raise ValueError with a message that says so.
    ``path`` may be a ``str`` or a ``pathlib.Path``.
    """
    # TODO 1: 讀檔（同樣用 strict=False），取出 data["Layers"]。
    # TODO 2: 如果某個 layer 是字串（只有名稱），raise ValueError("... --profilingVerbosity=detailed ...")，
    #         告訴使用者要用 --profilingVerbosity=detailed 重新建置 engine。
    # TODO 3: 每個 layer 建立 LayerInfo：name <- "Name"、layer_type <- "LayerType"，
    #         精度用 precision_of(第一個 Inputs/Outputs 的 "Format/Datatype")，沒有 tensor 時是 None。
    raise NotImplementedError


def parse_perf_summary(text: str) -> dict:
    """Throughput and latency statistics from trtexec's ``=== Performance summary ===``.

    Returns ``{"throughput_qps": float, "latency": {...}, "enqueue": {...}, "h2d": {...},
    "gpu_compute": {...}, "d2h": {...}}`` from the lines Throughput, Latency, Enqueue Time,
    H2D Latency, GPU Compute Time and D2H Latency. Each inner dict holds "min", "max", "mean",
    "median" and one "p<N>" per printed ``percentile(N%)`` (p90, p95, p99 by default; other
    ones with trtexec --percentile=...), all floats in ms.
    """
    # TODO 1: 每行去掉前綴後用 line.partition(": ") 拆成標籤和內容。
    # TODO 2: "Throughput: 318.007 qps" -> summary["throughput_qps"] = 318.007
    # TODO 3: 其他五個標籤：用 re.finditer 找出 "min = 3.12 ms"、"percentile(90%) = 3.14 ms" 這些片段，
    #         百分位數的鍵由印出來的數字組成（"percentile(99%)" -> "p99"），不要寫死 p90/p95/p99。
    raise NotImplementedError


def summarize(profile: list[LayerTime], layers: list[LayerInfo], top_k: int = 5) -> dict:
    """Where the time goes, for one inference.

    Returns a dict with
    - "total_ms": sum of average_ms over the profile (one inference, not all iterations);
    - "top_layers": [(name, average_ms), ...] of the top_k slowest layers, slowest first;
    - "time_by_type": {layer type: summed average_ms}, each profiled layer's type found by
      name in ``layers`` (a profiled layer without layer info counts as "Unknown");
    - "precision_counts": {input precision: number of layers} over ``layers`` (layers whose
      input_precision is None are not counted);
    - "reformat_percent": share of total_ms spent in layers of type "Reformat", 0-100
      (0.0 when total_ms is 0).
    """
    # TODO 1: 先用 {layer.name: layer.layer_type} 建立名稱對照表。
    # TODO 2: 依照 docstring 計算五個值；時間一律用 average_ms（一次推論），不要用 total_ms。
    # TODO 3: reformat_percent 是百分比（0-100）；total_ms 為 0 時回傳 0.0。
    raise NotImplementedError


def plot_profile(profile: list[LayerTime], layers: list[LayerInfo], out_png: str | Path) -> None:
    """Write one PNG at ``out_png``: per-layer latency coloured by precision, and time per layer type."""
    # TODO 1: import matplotlib; matplotlib.use("Agg")（Jetson 透過 ssh 時沒有螢幕），再 import matplotlib.pyplot as plt。
    # TODO 2: fig, (left, right) = plt.subplots(1, 2, ...)；左邊用 barh 畫每層的 average_ms，
    #         顏色依該層的 input_precision（例如 FP32 藍、FP16 綠、INT8 紅）；右邊畫 summarize() 的 time_by_type。
    # TODO 3: fig.savefig(out_png)；plt.close(fig)。
    raise NotImplementedError


def layer_memory(path: str | Path) -> dict[str, int]:
    """Bytes of each layer's outputs, from a detailed ``--exportLayerInfo`` JSON file.

    Returns ``{layer "Name": bytes}``: for each layer, the sum over its "Outputs" of
    elements x bytes per element. Elements = the product of the tensor's "Dimensions"; bytes per
    element come from the data type in "Format/Datatype": FP32/Float/Int32 4, FP16/Half/BF16/BFloat16 2,
    Int8/FP8/BOOL/Bool 1, Int64 8. Vectorized formats store the channel (the third-to-last
    dimension, C of NCHW) rounded up to their vector width: "Four wide channel vectorized ..." (4),
    "Thirty-two wide channel vectorized ..." (32), "... where channel % 8 == 0" (8); so C = 3 in a
    four-wide format takes the room of 4. A layer without outputs has 0 bytes. A layer with an output
    that cannot be sized (a dynamic -1 dimension, or no known data type) is left out: unknown is not 0.
    A names-only file (built without ``--profilingVerbosity=detailed``) raises ValueError saying so.
    ``path`` may be a ``str`` or a ``pathlib.Path``.
    """
    # TODO 1: 讀檔（json.loads(text, strict=False)），取出 data["Layers"]；遇到字串（只有名稱）就
    #         raise ValueError("... --profilingVerbosity=detailed ...")。
    # TODO 2: 每個 tensor：元素數 = Dimensions 的乘積；每個元素的位元組數由 Format/Datatype 裡的資料型別單字決定
    #         （像 precision_of 一樣以整個單字比對：re.findall(r"[A-Za-z0-9]+", fmt)）。有 -1 的維度就無法計算。
    # TODO 3: 向量化格式要把 channel（倒數第三個維度）補到向量寬度的倍數：
    #         "Thirty-two wide channel vectorized" -> 32、"channel % 8 == 0" -> 8；例如 math.ceil(c / 32) * 32。
    # TODO 4: 一層的值是所有 Outputs 的總和；沒有 Outputs 的層是 0；有算不出來的 output 的層不要放進結果。
    raise NotImplementedError
