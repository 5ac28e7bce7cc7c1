"""Practice 5 suite: ``profile_parser.py`` (trtexec profile, layer info, stdout; summary; plot).

CPU tier: the student's parsers read files the grader writes itself in trtexec 10.3's
formats (each layout's source is named in ``fixtures.py``), with every number chosen up front (``fixtures.py``); the summary and plot run on
inputs the grader builds. Where ``<repo>/../shared/reference`` holds real NVIDIA exports and
logs, they are parsed too and checked against the grader's own parser (``grader.practices.practice5.profile``).
GPU tier (Jetson): trtexec builds and profiles engines, and the student's parsers must agree
with trtexec's own stdout.
"""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from grader.backends import requirements
from grader.core import student
from grader.core.checks import Attempt, expect, fail
from grader.core.paths import REPO
from grader.core.submission import StudentFile, with_hint
from grader.plugin.suite_tools import student_module
from grader.practices.practice5 import PRACTICE
from grader.practices.practice5 import samples as fx
from grader.practices.practice5.profile import memory as gmemory
from grader.practices.practice5.profile import parse as gparse
from grader.practices.practice5.profile.table import summarize as grader_summarize

# NVIDIA's real files beside the repository: the tests reading them require "reference_exports" / "reference_logs".
REAL_EXPORTS = requirements.reference_folder("reference_exports")
REAL_LOGS = requirements.reference_folder("reference_logs")
REAL_MEMORY = REPO / "real_files" / "memory"  # the project's corpus of real TensorRT files

SIGNATURES = {
    "parse_profile": "(path: str | Path) -> list[LayerTime]",
    "parse_profile_log": "(text: str) -> list[LayerTime]",
    "parse_layer_info": "(path: str | Path) -> list[LayerInfo]",
    "parse_perf_summary": "(text: str) -> dict",
    "summarize": "(profile: list[LayerTime], layers: list[LayerInfo], top_k: int = 5) -> dict",
    "plot_profile": "(profile: list[LayerTime], layers: list[LayerInfo], out_png: str | Path) -> None",
    "layer_memory": "(path: str | Path) -> dict[str, int]",
}
STUDENT_FILE = StudentFile(PRACTICE.student_file, SIGNATURES)
TIME_FIELDS = ("name", "total_ms", "average_ms", "median_ms", "percent")
INFO_FIELDS = ("name", "layer_type", "input_precision", "output_precision")
METRIC_KEYS = ("latency", "enqueue", "h2d", "gpu_compute", "d2h")
SUMMARY_KEYS = ("total_ms", "top_layers", "time_by_type", "precision_counts", "reformat_percent")
JSON_HINT = (
    "trtexec's --exportProfile writes layer names unescaped (Profiler::exportJSONProfile), and TensorRT 8.6 EA "
    "exports held raw \\x1e/\\x1f separator characters, which strict JSON rejects (TensorRT 10 layer info "
    "escapes them as \\u001e): read the file with json.loads(text, strict=False)."
)
REL = 1e-6  # the fixtures print 6 significant digits; a correct parser reads them back exactly


# ---------------------------------------------------------------- helpers


def _call_json(module: Attempt[ModuleType], name: str, path: Path) -> Any:
    """The student's function ``name`` on a JSON file; a strict-JSON failure gets the hint on raw separators."""
    try:
        return STUDENT_FILE.call(module, name, path)
    except student.StudentCodeError as error:
        if "control character" in str(error):
            raise with_hint(error, JSON_HINT) from None
        raise


def _items(value: Any, function: str, fields: Sequence[str], kind: str) -> list[tuple[Any, ...]]:
    """The student's list of dataclass objects as tuples of ``fields``, or a clear failure."""
    expect(
        isinstance(value, (list, tuple)),
        f"{function} returned {type(value).__name__} {_short(value)}; expected a list of {kind}.",
    )
    rows = []
    for index, item in enumerate(value):
        missing = [name for name in fields if not hasattr(item, name)]
        expect(
            not missing,
            f"{function} returned a list whose item {index} ({type(item).__name__} {_short(item)}) has no "
            f"{', '.join(missing)}: return {kind} objects (the stub's dataclass, fields {', '.join(fields)}).",
        )
        rows.append(tuple(getattr(item, name) for name in fields))
    return rows


def _short(value: Any, width: int = 80) -> str:
    """``repr`` cut to one line."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _close(a: Any, b: float, rel: float = REL, absolute: float = 1e-12) -> bool:
    """Whether ``a`` is a number close to ``b``."""
    return isinstance(a, (int, float)) and not isinstance(a, bool) and math.isclose(a, b, rel_tol=rel, abs_tol=absolute)


def _describe_file(path: Path, case: fx.Case) -> str:
    """``resnet18_fp32.profile.json (ResNet-18, FP32, 50 iterations)``."""
    return f"{path.name} ({case.title}, {case.count} iterations)"


def _name_diff(got: Sequence[Any], expected: Sequence[str]) -> str:
    """Where two name lists first differ, for a message."""
    for index, (a, b) in enumerate(zip(got, expected, strict=False)):
        if a != b:
            return f"entry {index} is {a!r}, expected {b!r}"
    if len(got) > len(expected):
        return f"extra entries from index {len(expected)}: {', '.join(_short(n, 60) for n in got[len(expected) : len(expected) + 3])}"
    return (
        f"missing entries from index {len(got)}: {', '.join(_short(n, 60) for n in expected[len(got) : len(got) + 3])}"
    )


def _by_name(rows: Iterable[tuple[Any, ...]]) -> dict[Any, tuple[Any, ...]]:
    """First row per name."""
    out: dict[Any, tuple[Any, ...]] = {}
    for row in rows:
        out.setdefault(row[0], row)
    return out


def _student_objects(
    module: Attempt[ModuleType], profile: Sequence[gparse.LayerTime], layers: Sequence[gparse.LayerInfo]
) -> tuple[list[Any], list[Any]]:
    """The grader's lists rebuilt with the student's own LayerTime / LayerInfo dataclasses."""
    mod = module.result()
    made: list[list[Any]] = []
    for cls_name, items, fields in (("LayerTime", profile, TIME_FIELDS), ("LayerInfo", layers, INFO_FIELDS)):
        cls = getattr(mod, cls_name, None)
        expect(
            callable(cls),
            f"{student.display_path(Path(mod.__file__ or STUDENT_FILE.name))} has no class {cls_name}: keep the stub's "
            f"dataclass {cls_name}({', '.join(fields)}).",
        )
        try:
            made.append([cls(**{name: getattr(item, name) for name in fields}) for item in items])
        except Exception as error:
            fail(
                f"{cls_name}({', '.join(f'{f}=...' for f in fields)}) fails: {type(error).__name__}: {error}. "
                f"Keep the stub's dataclass {cls_name} with exactly these fields."
            )
    return made[0], made[1]


def _time_of(case: fx.Case) -> tuple[list[gparse.LayerTime], list[gparse.LayerInfo]]:
    """A case's profile and layer information as the grader knows them."""
    return fx.expected_profile(case), fx.expected_layers(case)


# ---------------------------------------------------------------- fixtures


parser = student_module(STUDENT_FILE)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, fx.Written]:
    """Every fixture case written as trtexec would (profile and layer JSON)."""
    return fx.write_all(tmp_path_factory.mktemp("p5-exports"))


@pytest.fixture(scope="module")
def not_detailed(files: dict[str, fx.Written]) -> Path:
    """A layer file exported without --profilingVerbosity=detailed."""
    return files[fx.RESNET_FP32.key].layers.parent / "not_detailed.layer.json"


LOG_DEFAULT = (fx.MOBILENET_INT8, fx.SUMMARY_DEFAULT)
LOG_CUSTOM = (fx.DLA_LIKE, fx.SUMMARY_CUSTOM)


# ---------------------------------------------------------------- parse_profile


@pytest.mark.points(2)
@pytest.mark.check("p5.profile.layers")
def test_parse_profile_layers(parser: Attempt[ModuleType], files: dict[str, fx.Written]) -> None:
    """parse_profile: one LayerTime per layer, in file order ({"count": N} is no layer; zero-time layers kept)"""
    for case in (fx.RESNET_FP32, fx.RESNET_FP16, fx.MOBILENET_INT8):
        path = files[case.key].profile
        rows = _items(STUDENT_FILE.call(parser, "parse_profile", path), "parse_profile()", TIME_FIELDS, "LayerTime")
        names = [row[0] for row in rows]
        expected = [layer.name for layer in case.layers]
        if len(names) == len(expected) + 1 and names[1:] == expected:
            fail(
                f"parse_profile({_describe_file(path, case)}) returned {len(names)} entries for {len(expected)} layers: "
                f'the first, {_short(rows[0])}, comes from the {{"count": {case.count}}} record. That record says '
                'how many iterations were profiled; it is not a layer: skip records without a "name".'
            )
        zero = [layer.name for layer in case.layers if layer.average_ms == 0 and layer.name not in names]
        expect(
            not zero,
            f"parse_profile({path.name}) left out zero-time layers {zero[:2]}: the JSON export lists every layer, "
            "including those that took 0 ms; keep them all.",
        )
        expect(
            names == expected,
            f"parse_profile({_describe_file(path, case)}) returned {len(names)} layers, the file has {len(expected)}: "
            f"{_name_diff(names, expected)}. Return one LayerTime per layer record, names exactly as in the file, "
            "in file order.",
        )


@pytest.mark.points(1)
@pytest.mark.check("p5.profile.times")
def test_parse_profile_times(parser: Attempt[ModuleType], files: dict[str, fx.Written]) -> None:
    """parse_profile: total, average and median ms of every layer (timeMs, averageMs, medianMs)"""
    for case in (fx.RESNET_FP32, fx.MOBILENET_INT8):
        path = files[case.key].profile
        rows = _by_name(
            _items(STUDENT_FILE.call(parser, "parse_profile", path), "parse_profile()", TIME_FIELDS, "LayerTime")
        )
        for record in fx.profile_records(case):
            row = rows.get(record.name)
            expect(row is not None, f"parse_profile({path.name}) returned no layer named {record.name!r}.")
            want = record.layer_time()
            _, total, average, median, _ = row
            where = f"parse_profile({_describe_file(path, case)}): layer {record.name!r}"
            if _close(average, want.total_ms) and not _close(average, want.average_ms):
                fail(
                    f"{where} has average_ms = {average}, which is its timeMs, the sum over all {case.count} "
                    f"iterations. One inference takes averageMs = {record.average_ms}: read average_ms from "
                    '"averageMs" and total_ms from "timeMs".'
                )
            for field, got, expected, key in (
                ("total_ms", total, want.total_ms, "timeMs"),
                ("average_ms", average, want.average_ms, "averageMs"),
                ("median_ms", median, want.median_ms, "medianMs"),
            ):
                expect(
                    _close(got, expected),
                    f'{where} has {field} = {_short(got)}; the file says "{key}" : {expected:g}. '
                    f'Read {field} from "{key}" as a float (ms).',
                )


@pytest.mark.points(1)
@pytest.mark.check("p5.profile.percent")
def test_parse_profile_percent(parser: Attempt[ModuleType], files: dict[str, fx.Written]) -> None:
    """parse_profile: percent on trtexec's 0-100 scale, as the file writes it"""
    case = fx.RESNET_FP16
    path = files[case.key].profile
    rows = _by_name(
        _items(STUDENT_FILE.call(parser, "parse_profile", path), "parse_profile()", TIME_FIELDS, "LayerTime")
    )
    for record in fx.profile_records(case):
        row = rows.get(record.name)
        expect(row is not None, f"parse_profile({path.name}) returned no layer named {record.name!r}.")
        want = float(record.percentage)
        got = row[4]
        if want > 0 and _close(got, want / 100):
            fail(
                f"parse_profile({path.name}): layer {record.name!r} has percent = {got}, a fraction; the file says "
                f'"percentage" : {record.percentage} on a 0-100 scale. Keep trtexec\'s value, do not divide by 100.'
            )
        expect(
            _close(got, want),
            f"parse_profile({path.name}): layer {record.name!r} has percent = {_short(got)}; the file says "
            f'"percentage" : {record.percentage} (0-100 scale).',
        )


@pytest.mark.points(1)
@pytest.mark.check("p5.profile.raw_separator_names")
def test_parse_profile_trt10_names(parser: Attempt[ModuleType], files: dict[str, fx.Written]) -> None:
    """parse_profile: layer names with raw \\x1e/\\x1f separators (as in 8.6 EA exports), kept exactly"""
    case = fx.TRT10_UNICODE
    path = files[case.key].profile
    rows = _by_name(_items(_call_json(parser, "parse_profile", path), "parse_profile()", TIME_FIELDS, "LayerTime"))
    for record in fx.profile_records(case):
        row = rows.get(record.name)
        if row is None:
            fail(
                f"parse_profile({_describe_file(path, case)}) returned no layer named {record.name!r}; it returned "
                f"{[_short(name, 70) for name in list(rows)[:6]]}. Keep names exactly as in the file, separator "
                "characters included: the same names appear in the layer-information file, where they join."
            )


# ---------------------------------------------------------------- parse_profile_log


@pytest.mark.points(1)
@pytest.mark.check("p5.profile_log.rows")
def test_parse_profile_log_rows(parser: Attempt[ModuleType]) -> None:
    """parse_profile_log: one row per printed layer (log prefixes, header and Total row skipped)"""
    for case, summary in (LOG_DEFAULT, LOG_CUSTOM):
        text = fx.trtexec_stdout(case, summary)
        rows = _items(
            STUDENT_FILE.call(parser, "parse_profile_log", text), "parse_profile_log()", TIME_FIELDS, "LayerTime"
        )
        names = [row[0] for row in rows]
        expected = [row.name for row in fx.table_rows(case)[0]]
        what = f"parse_profile_log(stdout of trtexec --dumpProfile on {case.engine_file})"
        expect(
            names,
            f"{what} found no rows. The table follows '=== Profile (N iterations ) ===' and its header line; each "
            "line starts with a '[date-time] [I] ' prefix, then Time(ms), Avg.(ms), Median(ms), Time(%) and the name.",
        )
        expect(
            "Total" not in names,
            f"{what} returned a row named 'Total': that row sums the whole table and is no layer. Skip it "
            "(it also ends the table).",
        )
        expect(
            names == expected,
            f"{what} returned {len(names)} rows, the table has {len(expected)}: {_name_diff(names, expected)}. "
            "The name is everything after the Time(%) column: it may hold spaces, braces, brackets, '*' and '+'.",
        )


@pytest.mark.points(1)
@pytest.mark.check("p5.profile_log.values")
def test_parse_profile_log_values(parser: Attempt[ModuleType]) -> None:
    """parse_profile_log: total, average, median ms and percent of each row"""
    for case, summary in (LOG_DEFAULT, LOG_CUSTOM):
        text = fx.trtexec_stdout(case, summary)
        rows = _by_name(
            _items(
                STUDENT_FILE.call(parser, "parse_profile_log", text), "parse_profile_log()", TIME_FIELDS, "LayerTime"
            )
        )
        for printed in fx.table_rows(case)[0]:
            row = rows.get(printed.name)
            expect(row is not None, f"parse_profile_log() returned no row named {printed.name!r} ({case.engine_file}).")
            for field, got, text_value, column in zip(
                TIME_FIELDS[1:],
                row[1:],
                (printed.total, printed.average, printed.median, printed.percent),
                ("Time(ms)", "Avg.(ms)", "Median(ms)", "Time(%)"),
                strict=False,
            ):
                expect(
                    _close(got, float(text_value)),
                    f"parse_profile_log(): row {printed.name!r} has {field} = {_short(got)}; its {column} column "
                    f"prints {text_value}.",
                )


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.check("p5.profile_log.raw_separators")
def test_parse_profile_log_raw_separators(parser: Attempt[ModuleType]) -> None:
    """parse_profile_log: names holding raw \\x1e/\\x1f separators (as 8.6 EA wrote them) come back whole"""
    case = fx.TRT10_UNICODE
    text = fx.trtexec_stdout(case, fx.SUMMARY_DEFAULT)
    rows = _items(STUDENT_FILE.call(parser, "parse_profile_log", text), "parse_profile_log()", TIME_FIELDS, "LayerTime")
    names = [row[0] for row in rows]
    # Only the names with separators are graded here; the other rows are test_parse_profile_log_rows' business.
    whole = [row.name for row in fx.table_rows(case)[0] if fx.RS in row.name]
    assert whole, "internal: the case has no name holding \\x1e"
    cut = [name for name in whole if name not in names]
    if cut:
        pieces = [name for name in names if isinstance(name, str) and name and cut[0].startswith(name)]
        got = (
            f"it returned a row named {pieces[0]!r} instead, the name cut at its first \\x1e"
            if pieces
            else f"it returned {len(names)} rows: {', '.join(_short(name, 60) for name in names[:6])}"
        )
        fail(
            f"parse_profile_log(stdout of trtexec --dumpProfile on {case.engine_file}) has no row named {cut[0]!r}; "
            f"{got}. The name holds the \\x1e character, where str.splitlines() also breaks a line: read the lines "
            'with text.split("\\n").'
        )


# ---------------------------------------------------------------- parse_layer_info


def _layer_rows(parser: Attempt[ModuleType], path: Path) -> list[tuple[Any, ...]]:
    """The student's parse_layer_info(path) as (name, type, input precision, output precision) tuples."""
    return _items(_call_json(parser, "parse_layer_info", path), "parse_layer_info()", INFO_FIELDS, "LayerInfo")


def _check_layers(parser: Attempt[ModuleType], written: fx.Written, fields: Sequence[str] = INFO_FIELDS) -> None:
    """parse_layer_info on one case must give the known names, types and precisions."""
    case, path = written.case, written.layers
    rows = _layer_rows(parser, path)
    names = [row[0] for row in rows]
    expected = fx.expected_layers(case)
    expect(
        names == [layer.name for layer in expected],
        f"parse_layer_info({path.name}, {case.title}) returned {len(names)} layers, the file has {len(expected)}: "
        f'{_name_diff(names, [layer.name for layer in expected])}. One LayerInfo per entry of "Layers", in order, '
        "names exactly as written.",
    )
    formats = {layer.name: layer for layer in case.layers}
    for row, want in zip(rows, expected, strict=False):
        for index, field in enumerate(INFO_FIELDS):
            if field not in fields or field == "name":
                continue
            got, wanted = row[index], getattr(want, field)
            if got == wanted:
                continue
            if field == "layer_type":
                fail(
                    f'parse_layer_info({path.name}): layer {want.name!r} has layer_type {got!r}; "LayerType" is {wanted!r}.'
                )
            tensors = formats[want.name].inputs if field == "input_precision" else formats[want.name].outputs
            side = "input" if field == "input_precision" else "output"
            if not tensors:
                fail(
                    f'parse_layer_info({path.name}): layer {want.name!r} has no {side}s ("{side.title()}s": []), so '
                    f"its {field} must be None, not {got!r}."
                )
            fail(
                f"parse_layer_info({path.name}): layer {want.name!r} has {field} {got!r}; its first {side}'s "
                f'"Format/Datatype" is {tensors[0].text!r}, which is {wanted!r}. Map the data-type word in the '
                "format string to one of FP32, FP16, INT8, BF16, FP8, INT32, BOOL (TensorRT 10's short forms: "
                "Float = FP32, Half = FP16, BFloat16 = BF16, Bool = BOOL)."
            )


@pytest.mark.points(1)
@pytest.mark.check("p5.layer_info.layers")
def test_parse_layer_info_layers(parser: Attempt[ModuleType], files: dict[str, fx.Written]) -> None:
    """parse_layer_info: one LayerInfo per layer with its name and LayerType"""
    for case in (fx.RESNET_FP32, fx.DLA_LIKE):
        _check_layers(parser, files[case.key], ("name", "layer_type"))


@pytest.mark.points(1)
@pytest.mark.check("p5.layer_info.fp32_fp16")
def test_parse_layer_info_fp32_fp16(parser: Attempt[ModuleType], files: dict[str, fx.Written]) -> None:
    """parse_layer_info: FP32 and FP16 engines, precision of each layer's first input and output"""
    for case in (fx.RESNET_FP32, fx.RESNET_FP16):
        _check_layers(parser, files[case.key])


@pytest.mark.points(2)
@pytest.mark.check("p5.layer_info.int8_mixed")
def test_parse_layer_info_int8_mixed(parser: Attempt[ModuleType], files: dict[str, fx.Written]) -> None:
    """parse_layer_info: INT8 engine mixing INT8, FP16 and FP32 layers (Q/DQ Reformat layers)"""
    _check_layers(parser, files[fx.MOBILENET_INT8.key])


@pytest.mark.points(1)
@pytest.mark.check("p5.layer_info.other_precisions")
def test_parse_layer_info_other_precisions(parser: Attempt[ModuleType], files: dict[str, fx.Written]) -> None:
    """parse_layer_info: BF16, FP8, INT32, BOOL, short kgen names, and None for layers without tensors"""
    for case in (fx.PRECISIONS, fx.DLA_LIKE):
        _check_layers(parser, files[case.key])


@pytest.mark.points(1)
@pytest.mark.check("p5.layer_info.raw_separators")
def test_parse_layer_info_trt10_unicode(parser: Attempt[ModuleType], files: dict[str, fx.Written]) -> None:
    """parse_layer_info: Metadata with raw \\x1e/\\x1f separators (8.6 EA; 10.x escapes them), Myelin without inputs"""
    _check_layers(parser, files[fx.TRT10_UNICODE.key])


@pytest.mark.points(1)
@pytest.mark.check("p5.layer_info.trt11")
def test_parse_layer_info_trt11(parser: Attempt[ModuleType], files: dict[str, fx.Written]) -> None:
    """parse_layer_info: TensorRT 11 layout ("I/O Tensors" instead of "Bindings")"""
    _check_layers(parser, files[fx.TRT11.key])


@pytest.mark.points(1)
@pytest.mark.check("p5.layer_info.not_detailed")
def test_parse_layer_info_not_detailed(parser: Attempt[ModuleType], not_detailed: Path) -> None:
    """parse_layer_info: a clear ValueError for files exported without --profilingVerbosity=detailed"""
    func = STUDENT_FILE.function(parser, "parse_layer_info")
    what = f'parse_layer_info({not_detailed.name}), a file whose "Layers" are plain name strings'
    try:
        returned = func(not_detailed)
    except ValueError as error:
        expect(
            "profilingverbosity" in str(error).lower(),
            f"{what} raised ValueError({str(error)!r}); the message must tell the user what to do: rebuild the "
            "engine with --profilingVerbosity=detailed.",
        )
        return
    except BaseException:  # noqa: BLE001 - shown with the student's lines by student.call
        try:
            returned = student.call(func, not_detailed)
        except student.StudentCodeError as error:
            if "not implemented yet" in str(error):
                raise
            raise with_hint(
                error,
                f'On {not_detailed.name}, whose "Layers" are plain name strings, raise a ValueError '
                "whose message says to rebuild the engine with --profilingVerbosity=detailed.",
            ) from None
    fail(
        f"{what} returned {_short(returned)}; expected a ValueError whose message says to rebuild with "
        "--profilingVerbosity=detailed (without it, layers have no types and no precisions)."
    )


# ---------------------------------------------------------------- layer_memory


def _memory(parser: Attempt[ModuleType], path: Path) -> dict[Any, Any]:
    """The student's layer_memory(path), checked to be a dict."""
    got = _call_json(parser, "layer_memory", path)
    expect(
        isinstance(got, dict),
        f"layer_memory({path.name}) returned {type(got).__name__} {_short(got)}; expected a dict "
        "{layer name: bytes of its outputs}.",
    )
    return got


def _check_memory(got: dict[Any, Any], want: dict[str, int], what: str, hint: str) -> None:
    """Every expected layer with its bytes, nothing else."""
    for name, size in want.items():
        expect(name in got, f"{what} has no entry for layer {name!r}; every layer whose outputs can be sized is a key.")
        expect(
            got[name] == size and isinstance(got[name], int),
            f"{what}[{name!r}] is {_short(got[name])}; its outputs take {size} bytes. {hint}",
        )


@pytest.mark.points(2)
@pytest.mark.check("p5.memory.sizes")
def test_layer_memory_sizes(parser: Attempt[ModuleType], files: dict[str, fx.Written], not_detailed: Path) -> None:
    """layer_memory: bytes of each layer's outputs (element size per type, no outputs = 0, dynamic left out)"""
    path = files[fx.RESNET_FP32.key].layers.parent / fx.MEMORY_FILE
    got = _memory(parser, path)
    plain = {x.name: x.output_bytes for x in fx.MEMORY_LAYERS if not x.padded and x.output_bytes is not None}
    _check_memory(
        got,
        plain,
        f"layer_memory({path.name})",
        "bytes = product of Dimensions x bytes per element (FP32/Float/Int32 4, FP16/Half/BF16 2, "
        "Int8/FP8/BOOL 1), summed over the layer's Outputs.",
    )
    unsized = [x.name for x in fx.MEMORY_LAYERS if x.output_bytes is None]
    wrong = next((name for name in unsized if name in got), None)
    expect(
        wrong is None,
        f"layer_memory({path.name}) gives {wrong!r} = {_short(got.get(wrong))}, but its output has a dynamic "
        "dimension (-1): its size is unknown, so leave the layer out (never 0 or negative).",
    )
    func = STUDENT_FILE.function(parser, "layer_memory")
    try:
        returned = func(not_detailed)
    except ValueError as error:
        expect(
            "profilingverbosity" in str(error).lower(),
            f"layer_memory({not_detailed.name}) raised ValueError({str(error)!r}); the message must say to rebuild "
            "the engine with --profilingVerbosity=detailed.",
        )
        return
    except Exception:
        try:
            returned = student.call(func, not_detailed)  # the same failure, with the student's own lines
        except student.StudentCodeError as error:
            raise with_hint(
                error,
                f'On {not_detailed.name}, whose "Layers" are plain names, raise a ValueError saying to rebuild '
                "with --profilingVerbosity=detailed.",
            ) from None
    fail(
        f'layer_memory({not_detailed.name}) returned {_short(returned)} for a file whose "Layers" are plain names '
        "(no Dimensions): raise ValueError saying to rebuild with --profilingVerbosity=detailed."
    )


@pytest.mark.points(1)
@pytest.mark.check("p5.memory.vector_padding")
def test_layer_memory_vector_padding(parser: Attempt[ModuleType], files: dict[str, fx.Written]) -> None:
    """layer_memory: vectorized formats pad the channel to their vector width (C=3 in a 4-wide format is 4)"""
    path = files[fx.RESNET_FP32.key].layers.parent / fx.MEMORY_FILE
    got = _memory(parser, path)
    padded = {x.name: x.output_bytes for x in fx.MEMORY_LAYERS if x.padded and x.output_bytes is not None}
    _check_memory(
        got,
        padded,
        f"layer_memory({path.name})",
        "A vectorized format stores the channel (the third-to-last dimension) rounded up to its vector width: "
        "'Four wide channel vectorized ...' -> a multiple of 4, '... where channel % 16 == 0' -> a multiple of 16.",
    )


@pytest.mark.points(1)
@pytest.mark.check("p5.memory.real_files")
def test_layer_memory_real_files(parser: Attempt[ModuleType], tmp_path: Path) -> None:
    """layer_memory: real detailed layer-info files (real_files/memory) agree with the grader's reader"""
    paths = sorted(REAL_MEMORY.glob("*.layer.json")) if REAL_MEMORY.is_dir() else []
    if not paths:
        pytest.skip(f"not graded on this machine: no real layer-info files in {REAL_MEMORY}")
    for path in paths:
        want = gmemory.read_tensor_memory(path)
        # The student reads a copy: a batch sandbox lets student code read its own test folder, not the grader's.
        copy = tmp_path / path.name
        shutil.copyfile(path, copy)
        got = _memory(parser, copy)
        _check_memory(
            got,
            want.per_layer,
            f"layer_memory({path.name}) (a real TensorRT export)",
            "Read Dimensions and Format/Datatype of each output; pad vectorized channels; TensorRT 10's Myelin "
            "layers write the type alone ('Half', 'Float').",
        )
        extra = [name for name in got if name not in want.per_layer]
        expect(not extra, f"layer_memory({path.name}) has a key {_short(extra[:1])} that is no sizable layer.")


# ---------------------------------------------------------------- parse_perf_summary


def _summary(parser: Attempt[ModuleType], case: fx.Case, summary: fx.Summary) -> dict[str, Any]:
    """The student's parse_perf_summary on a whole trtexec stdout."""
    text = fx.trtexec_stdout(case, summary)
    result = STUDENT_FILE.call(parser, "parse_perf_summary", text)
    expect(isinstance(result, dict), f"parse_perf_summary() returned {type(result).__name__}; expected a dict.")
    return result


def _check_metric(result: dict[str, Any], key: str, metric: fx.Metric, percentiles_only: bool = False) -> None:
    """One metric's dict must hold min/max/mean/median and one p<N> per printed percentile."""
    got = result.get(key)
    expect(
        isinstance(got, dict),
        f"parse_perf_summary()[{key!r}] is {_short(got)}; expected a dict such as "
        "{'min': ..., 'max': ..., 'mean': ..., 'median': ..., 'p90': ...} (ms).",
    )
    expected = metric.expected()
    printed = {f"p{p}" for p, _ in metric.percentiles}
    found = {k for k in got if isinstance(k, str) and re.fullmatch(r"p\d+(\.\d+)?", k)}
    expect(
        found == printed,
        f"parse_perf_summary()[{key!r}] has percentile keys {sorted(found)}; this log prints "
        f"{', '.join(f'percentile({p}%)' for p, _ in metric.percentiles)}, so expected {sorted(printed)}. "
        "Build each key from the printed percentage (trtexec --percentile=50,99 prints other ones than 90/95/99).",
    )
    for name, value in expected.items():
        if percentiles_only and name not in printed:
            continue
        expect(
            _close(got.get(name), value),
            f"parse_perf_summary()[{key!r}][{name!r}] is {_short(got.get(name))}; the log prints {value:g} ms.",
        )


@pytest.mark.points(1)
@pytest.mark.check("p5.perf_summary.latency")
def test_parse_perf_summary_latency(parser: Attempt[ModuleType]) -> None:
    """parse_perf_summary: throughput_qps and latency (min, max, mean, median, p90, p95, p99)"""
    case, summary = LOG_DEFAULT
    result = _summary(parser, case, summary)
    expect(
        _close(result.get("throughput_qps"), float(summary.throughput)),
        f"parse_perf_summary()['throughput_qps'] is {_short(result.get('throughput_qps'))}; the log prints "
        f"'Throughput: {summary.throughput} qps' (a float).",
    )
    _check_metric(result, "latency", summary.metrics["latency"])


@pytest.mark.points(1)
@pytest.mark.check("p5.perf_summary.metrics")
def test_parse_perf_summary_metrics(parser: Attempt[ModuleType]) -> None:
    """parse_perf_summary: enqueue, h2d, gpu_compute and d2h statistics"""
    case, summary = LOG_DEFAULT
    result = _summary(parser, case, summary)
    for key in ("enqueue", "h2d", "gpu_compute", "d2h"):
        _check_metric(result, key, summary.metrics[key])


@pytest.mark.points(1)
@pytest.mark.check("p5.perf_summary.percentiles")
def test_parse_perf_summary_percentiles(parser: Attempt[ModuleType]) -> None:
    """parse_perf_summary: the percentiles the log prints (--percentile=50,99 gives p50 and p99)"""
    case, summary = LOG_CUSTOM
    result = _summary(parser, case, summary)
    for key in METRIC_KEYS:
        _check_metric(result, key, summary.metrics[key], percentiles_only=True)


# ---------------------------------------------------------------- summarize


SUMMARY_CASE = fx.MOBILENET_INT8


def _student_summary(
    parser: Attempt[ModuleType], *cases: fx.Case, **kwargs: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The student's summarize() on the grader's lists of ``cases`` (joined), and the grader's own answer."""
    profile = [entry for case in cases[:1] for entry in fx.expected_profile(case)]
    layers = [layer for case in cases for layer in fx.expected_layers(case)]
    student_profile, student_layers = _student_objects(parser, profile, layers)
    got = STUDENT_FILE.call(parser, "summarize", student_profile, student_layers, **kwargs)
    expect(isinstance(got, dict), f"summarize() returned {type(got).__name__}; expected a dict.")
    missing = [key for key in SUMMARY_KEYS if key not in got]
    expect(not missing, f"summarize() returned keys {sorted(map(str, got))}; it lacks {missing}.")
    return got, grader_summarize(profile, layers, **kwargs)


@pytest.mark.points(1)
@pytest.mark.check("p5.summarize.total")
def test_summarize_total(parser: Attempt[ModuleType]) -> None:
    """summarize: total_ms is the sum of per-layer average ms (one inference)"""
    got, want = _student_summary(parser, SUMMARY_CASE)
    total = got["total_ms"]
    sum_total = sum(entry.total_ms for entry in fx.expected_profile(SUMMARY_CASE))
    hint = (
        f" That is the sum of total_ms over all {SUMMARY_CASE.count} iterations; one inference is the sum of average_ms."
        if _close(total, sum_total)
        else ""
    )
    expect(
        _close(total, want["total_ms"], rel=1e-9),
        f"summarize()['total_ms'] is {_short(total)}; expected {want['total_ms']:.6g} ms = the sum of average_ms "
        f"of the {SUMMARY_CASE.title} profile.{hint}",
    )


@pytest.mark.points(1)
@pytest.mark.check("p5.summarize.top_layers")
def test_summarize_top_layers(parser: Attempt[ModuleType]) -> None:
    """summarize: top_layers lists (name, average_ms), slowest first, top_k of them"""
    for kwargs in ({"top_k": 3}, {}):
        got, want = _student_summary(parser, SUMMARY_CASE, **kwargs)
        top = got["top_layers"]
        call = f"summarize(..., top_k={kwargs['top_k']})" if kwargs else "summarize(...) (default top_k=5)"
        expect(
            isinstance(top, (list, tuple)) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in top),
            f"{call}['top_layers'] is {_short(top)}; expected a list of (name, average_ms) pairs.",
        )
        names = [pair[0] for pair in top]
        expected_names = [name for name, _ in want["top_layers"]]
        expect(
            names == expected_names,
            f"{call}['top_layers'] names are {[_short(n, 50) for n in names]}; expected the {len(expected_names)} "
            f"slowest by average_ms, slowest first: {[_short(n, 50) for n in expected_names]}.",
        )
        for (name, value), (_, expected) in zip(top, want["top_layers"], strict=False):
            expect(
                _close(value, expected),
                f"{call}['top_layers']: {name!r} comes with {_short(value)}; expected its average_ms {expected:g}.",
            )


@pytest.mark.points(1)
@pytest.mark.check("p5.summarize.time_by_type")
def test_summarize_time_by_type(parser: Attempt[ModuleType]) -> None:
    """summarize: time_by_type sums average ms per layer type (layers joined by name)"""
    got, want = _student_summary(parser, SUMMARY_CASE)
    by_type = got["time_by_type"]
    expect(isinstance(by_type, dict), f"summarize()['time_by_type'] is {_short(by_type)}; expected a dict.")
    expected = {kind: ms for kind, ms in want["time_by_type"].items() if ms > 0}
    nonzero = {kind: ms for kind, ms in by_type.items() if not (isinstance(ms, (int, float)) and ms == 0)}
    expect(
        set(nonzero) == set(expected),
        f"summarize()['time_by_type'] has types {sorted(map(str, nonzero))} with time; expected {sorted(expected)} "
        "(each profiled layer's LayerType, found by name in layers).",
    )
    for kind, ms in expected.items():
        expect(
            _close(nonzero[kind], ms),
            f"summarize()['time_by_type'][{kind!r}] is {_short(nonzero[kind])}; expected {ms:.6g} ms, the sum of "
            "average_ms of the layers of that type.",
        )


@pytest.mark.points(1)
@pytest.mark.check("p5.summarize.precision_counts")
def test_summarize_precision_counts(parser: Attempt[ModuleType]) -> None:
    """summarize: precision_counts counts layers per input precision (layers without inputs left out)"""
    got, want = _student_summary(parser, SUMMARY_CASE, fx.DLA_LIKE)
    counts = got["precision_counts"]
    expect(
        isinstance(counts, dict) and dict(counts) == want["precision_counts"],
        f"summarize()['precision_counts'] is {_short(counts, 120)}; expected {want['precision_counts']} "
        f"(input_precision of each of the {len(fx.MOBILENET_INT8.layers) + len(fx.DLA_LIKE.layers)} layers given; "
        "layers whose input_precision is None are not counted).",
    )


@pytest.mark.points(1)
@pytest.mark.check("p5.summarize.reformat_percent")
def test_summarize_reformat_percent(parser: Attempt[ModuleType]) -> None:
    """summarize: reformat_percent is the share of total_ms spent in Reformat layers (0-100)"""
    got, want = _student_summary(parser, SUMMARY_CASE)
    value, expected = got["reformat_percent"], want["reformat_percent"]
    hint = " That is a fraction: multiply by 100." if _close(value, expected / 100) else ""
    expect(
        _close(value, expected),
        f"summarize()['reformat_percent'] is {_short(value)}; expected {expected:.4g} = 100 * (average ms of "
        f"LayerType 'Reformat' layers) / total_ms.{hint}",
    )


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.check("p5.summarize.unknown_layer_type")
def test_summarize_unknown_layer_type(parser: Attempt[ModuleType]) -> None:
    """summarize: a profiled layer without layer information counts as "Unknown" in time_by_type"""
    case = SUMMARY_CASE
    profile = fx.expected_profile(case)
    timed = [layer for layer in case.layers if layer.average_ms > 0]
    # The layer list lacks the first and the last layer that take time (e.g. another build's layer file).
    missing = {timed[0].name, timed[-1].name}
    layers = [layer for layer in fx.expected_layers(case) if layer.name not in missing]
    unknown_ms = sum(entry.average_ms for entry in profile if entry.name in missing)
    student_profile, student_layers = _student_objects(parser, profile, layers)
    try:
        got = STUDENT_FILE.call(parser, "summarize", student_profile, student_layers)
    except student.StudentCodeError as error:
        if "not implemented yet" in str(error):
            raise
        raise with_hint(
            error,
            f"The profile given has layers that the layer list lacks ({', '.join(sorted(missing))}): "
            'count their time as "Unknown", e.g. layer_type.get(entry.name, "Unknown").',
        ) from None
    by_type = got.get("time_by_type") if isinstance(got, dict) else None
    expect(isinstance(by_type, dict), f"summarize()['time_by_type'] is {_short(by_type)}; expected a dict.")
    expect(
        _close(by_type.get("Unknown"), unknown_ms),
        f"summarize()['time_by_type'] is {_short(by_type, 160)}; expected 'Unknown': {unknown_ms:.6g} ms, the "
        f"average_ms of the profiled layers that have no layer information ({', '.join(sorted(missing))}).",
    )


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.check("p5.summarize.zero_total")
def test_summarize_zero_total(parser: Attempt[ModuleType]) -> None:
    """summarize: a profile whose layers all took 0 ms gives total_ms 0 and reformat_percent 0.0"""
    case = fx.RESNET_FP32
    profile = [entry for entry in fx.expected_profile(case) if entry.average_ms == 0]
    assert profile, "internal: the case has no zero-time layer"
    student_profile, student_layers = _student_objects(parser, profile, fx.expected_layers(case))
    try:
        got = STUDENT_FILE.call(parser, "summarize", student_profile, student_layers)
    except student.StudentCodeError as error:
        if "not implemented yet" in str(error):
            raise
        raise with_hint(
            error,
            "Every layer of the profile given took 0 ms, so total_ms is 0: then reformat_percent is 0.0 "
            "(check total_ms > 0 before dividing).",
        ) from None
    expect(isinstance(got, dict), f"summarize() returned {type(got).__name__}; expected a dict.")
    for key in ("total_ms", "reformat_percent"):
        expect(
            _close(got.get(key), 0.0),
            f"summarize()[{key!r}] is {_short(got.get(key))} for a profile whose {len(profile)} layers all took 0 ms; "
            "expected 0.0.",
        )


# ---------------------------------------------------------------- plot


@pytest.mark.points(2)
@pytest.mark.check("p5.plot.png")
def test_plot_profile(parser: Attempt[ModuleType], tmp_path: Path) -> None:
    """plot_profile writes a valid PNG of sensible size for every fixture engine"""
    from PIL import Image

    problems: list[tuple[str, str]] = []
    for case in fx.CASES.values():
        profile, layers = _student_objects(parser, *_time_of(case))
        out = tmp_path / f"{case.key}.png"
        try:
            STUDENT_FILE.call(parser, "plot_profile", profile, layers, out)
        except student.StudentCodeError as error:
            problems.append((case.title, str(error)))
            continue
        finally:
            _close_figures()
        if not out.is_file():
            problems.append((case.title, f"nothing written at out_png ({out.name}); save the figure there."))
            continue
        try:
            with Image.open(out) as image:
                image.load()
                kind, size, extrema = image.format, image.size, image.convert("L").getextrema()
        except Exception as error:  # PIL raises several types for broken files
            problems.append((case.title, f"{out.name} is not a readable image ({error})."))
            continue
        if kind != "PNG":
            problems.append((case.title, f"{out.name} is a {kind} image, not a PNG."))
        elif not (300 <= size[0] <= 12000 and 200 <= size[1] <= 12000):
            problems.append((case.title, f"the PNG is {size[0]}x{size[1]} pixels; expected 300..12000 x 200..12000."))
        elif extrema[0] == extrema[1]:
            problems.append((case.title, "the PNG is a single flat colour: nothing was drawn."))
    if problems and len({message for _, message in problems}) == 1:
        fail(f"plot_profile failed on {_count(problems)}: {problems[0][1]}")
    expect(
        not problems,
        f"plot_profile failed on {_count(problems)}:\n"
        + "\n".join(f"{title}: {message}" for title, message in problems[:3]),
    )


def _count(problems: list[tuple[str, str]]) -> str:
    """``3 of 7 fixture engines``."""
    return f"{len(problems)} of {len(fx.CASES)} fixture engines"


def _close_figures() -> None:
    """Free pyplot figures a submission left open (memory, not grading)."""
    import sys

    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.check("p5.str_paths")
def test_path_arguments_may_be_str(parser: Attempt[ModuleType], files: dict[str, fx.Written], tmp_path: Path) -> None:
    """parse_profile, parse_layer_info and plot_profile take a path given as a str like a pathlib.Path"""
    case = fx.RESNET_FP16
    written = files[case.key]
    hint = (
        "The signature takes str | Path: convert it with Path(...) before using Path methods "
        "(to read a file: Path(path).read_text(encoding='utf-8'))."
    )

    def as_str(name: str, *args: Any) -> Any:
        """The student's function called with its path argument (the last one) as a str."""
        try:
            return STUDENT_FILE.call(parser, name, *args[:-1], str(args[-1]))
        except student.StudentCodeError as error:
            if "not implemented yet" in str(error):
                raise
            raise with_hint(
                error,
                f"{name}() got its path as a str, {str(args[-1])!r}, and failed; with a pathlib.Path it works. {hint}",
            ) from None

    def rows(value: Any, fields: Sequence[str]) -> Any:
        """Comparable field tuples of a returned list (anything else as it is)."""
        if not isinstance(value, (list, tuple)):
            return value
        return [tuple(getattr(item, field, None) for field in fields) for item in value]

    for name, path, fields in (
        ("parse_profile", written.profile, TIME_FIELDS),
        ("parse_layer_info", written.layers, INFO_FIELDS),
    ):
        with_path = STUDENT_FILE.call(parser, name, path)
        with_str = as_str(name, path)
        expect(
            rows(with_str, fields) == rows(with_path, fields),
            f"{name}() returns {_short(with_str)} for the path {str(path)!r} given as a str, but {_short(with_path)} "
            f"for the same path as a pathlib.Path. {hint}",
        )
    # plot_profile itself is graded by test_plot_profile: here only a str out_png must do what a Path does.
    profile, layers = _student_objects(parser, *_time_of(case))
    png_path, png_str = tmp_path / "as_path.png", tmp_path / "as_str.png"
    try:
        STUDENT_FILE.call(parser, "plot_profile", profile, layers, png_path)
    except student.StudentCodeError as error:
        if "not implemented yet" in str(error):
            raise
        return  # it fails for a Path too: test_plot_profile says why
    finally:
        _close_figures()
    try:
        as_str("plot_profile", profile, layers, png_str)
    finally:
        _close_figures()
    expect(
        png_str.is_file() or not png_path.is_file(),
        f"plot_profile(..., out_png={str(png_str)!r}) wrote nothing there, though with the same path as a "
        f"pathlib.Path it writes the PNG. {hint}",
    )


# ---------------------------------------------------------------- real NVIDIA exports and logs


@pytest.mark.points(2)
@pytest.mark.requires("reference_exports")
@pytest.mark.check("p5.real.exports")
def test_real_trtexec_exports(parser: Attempt[ModuleType]) -> None:
    """real NVIDIA exports: parse_profile and parse_layer_info agree with trtexec's files"""
    profiles = sorted(REAL_EXPORTS.glob("*.profile.json"))
    expect(profiles, f"{REAL_EXPORTS} holds no *.profile.json (internal: the reference folder is incomplete)")
    for path in profiles:
        want = gparse.read_profile(path)
        rows = _items(_call_json(parser, "parse_profile", path), "parse_profile()", TIME_FIELDS, "LayerTime")
        names = [row[0] for row in rows]
        expect(
            names == [layer.name for layer in want.layers],
            f'parse_profile({path.name}) (real, {len(want.layers)} layers + the {{"count": {want.count}}} record) '
            f"returned {len(rows)} entries: {_name_diff(names, [layer.name for layer in want.layers])}.",
        )
        for row, layer in zip(rows, want.layers, strict=False):
            expect(
                _close(row[2], layer.average_ms) and _close(row[1], layer.total_ms),
                f"parse_profile({path.name}): layer {layer.name!r} has total_ms {row[1]}, average_ms {row[2]}; "
                f"the file says timeMs {layer.total_ms:g}, averageMs {layer.average_ms:g} ({want.count} iterations).",
            )
        percent = sum(row[4] for row in rows)
        expect(
            abs(percent - 100.0) <= 0.01,
            f"parse_profile({path.name}): the percents sum to {percent:.4g}; trtexec's percentages sum to 100.",
        )
    for path in sorted(REAL_EXPORTS.glob("*.graph.json")):
        want_layers = gparse.read_layer_info(path)
        rows = _layer_rows(parser, path)
        expected = [(x.name, x.layer_type, x.input_precision, x.output_precision) for x in want_layers]
        for got_row, want_row in zip(rows, expected, strict=False):
            expect(
                got_row == want_row,
                f"parse_layer_info({path.name}) (real): got {_short(got_row, 160)}, expected {_short(want_row, 160)} "
                "(name, layer_type, input_precision, output_precision).",
            )
        expect(
            len(rows) == len(expected),
            f"parse_layer_info({path.name}) returned {len(rows)} layers, the file has {len(expected)}.",
        )


def _sections(text: str) -> list[str]:
    """A reference log split at its ``# SOURCE`` headers (each part is one excerpt)."""
    parts = re.split(r"(?m)^# SOURCE.*$", text)
    return [part for part in parts if "=== Profile (" in part]


@pytest.mark.points(1)
@pytest.mark.requires("reference_logs")
@pytest.mark.check("p5.real.logs")
def test_real_trtexec_logs(parser: Attempt[ModuleType]) -> None:
    """real trtexec stdout: parse_profile_log and parse_perf_summary on logs from real runs"""
    for path in sorted(REAL_LOGS.glob("*.log")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, section in enumerate(_sections(text), 1):
            (table,) = gparse.read_profile_log(section)
            rows = _items(
                STUDENT_FILE.call(parser, "parse_profile_log", section), "parse_profile_log()", TIME_FIELDS, "LayerTime"
            )
            names = [row[0] for row in rows]
            expected = [row.name for row in table.rows]
            expect(
                names == expected,
                f"parse_profile_log(excerpt {number} of {path.name}) returned {len(names)} rows, the table has "
                f"{len(expected)}: {_name_diff(names, expected)}.",
            )
            if table.total is not None:
                average = sum(row[2] for row in rows)
                expect(
                    abs(average - table.total.average_ms) <= 1e-4 * (len(rows) + 1),
                    f"parse_profile_log(excerpt {number} of {path.name}): the rows' Avg.(ms) sum to {average:.4f}, "
                    f"the Total row says {table.total.average_ms:.4f}.",
                )
        if "=== Performance summary ===" not in text:
            continue
        want = gparse.read_perf_summary(text)
        got = STUDENT_FILE.call(parser, "parse_perf_summary", text)
        expect(
            isinstance(got, dict), f"parse_perf_summary({path.name}) returned {type(got).__name__}; expected a dict."
        )
        expect(
            _close(got.get("throughput_qps"), want["throughput_qps"]),
            f"parse_perf_summary({path.name})['throughput_qps'] is {_short(got.get('throughput_qps'))}; "
            f"the log prints {want['throughput_qps']:g}.",
        )
        for key in METRIC_KEYS:
            metric = got.get(key)
            expect(
                isinstance(metric, dict),
                f"parse_perf_summary({path.name})[{key!r}] is {_short(metric)}; expected a dict.",
            )
            for name, value in want[key].items():
                expect(
                    _close(metric.get(name), value),
                    f"parse_perf_summary({path.name})[{key!r}][{name!r}] is {_short(metric.get(name))}; the log "
                    f"prints {value:g}.",
                )
        parts = got["h2d"]["mean"] + got["gpu_compute"]["mean"] + got["d2h"]["mean"]
        expect(
            abs(got["latency"]["mean"] - parts) <= 1e-4 * max(1.0, parts),
            f"parse_perf_summary({path.name}): latency mean {got['latency']['mean']} is not H2D + GPU compute + "
            f"D2H = {parts}, as trtexec defines it.",
        )


# ---------------------------------------------------------------- GPU tier (Jetson)


@dataclass(frozen=True)
class FreshProfile:
    """One engine profiled by trtexec on this board, with the grader's own reading of its output."""

    label: str
    engine: Path
    profile_json: Path
    layer_json: Path
    stdout: str
    profile: gparse.Profile
    layers: gparse.LayerFile | None  # None: the engine has names-only layer information


def _earlier_engines(student_dir: Path, limit: int = 4) -> list[Path]:
    """Engines the student built in Practices 3 and 4 (next to their files), if any."""
    found: list[Path] = []
    for folder in (student_dir.parent / "practice3", student_dir.parent / "practice4", student_dir):
        for suffix in ("*.engine", "*.plan", "*.trt"):
            found += sorted(folder.glob(suffix))
    return found[:limit]


def _reference_engines() -> list[tuple[str, Path]]:
    """The lab classifier built by trtexec in FP32, FP16 and INT8 (cached per ONNX file, TensorRT and GPU)."""
    from grader.backends import trtexec
    from grader.tools import models

    onnx = models.export_onnx(models.lab_classifier().name)
    return [
        (f"lab classifier {precision.upper()} ({models.lab_classifier().name})", trtexec.cached_engine(onnx, precision))
        for precision in trtexec.PRECISION_FLAGS
    ]


@pytest.fixture(scope="module")
def fresh_profiles(student_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[FreshProfile]:
    """Engines profiled now with trtexec --dumpProfile --separateProfileRun --exportProfile --exportLayerInfo.

    Only tests marked ``requires("tensorrt", "gpu", "trtexec")`` use it: elsewhere they skip before it is built.
    """
    from grader.backends import trtexec

    out = tmp_path_factory.mktemp("p5-trtexec")
    engines = _reference_engines() + [
        (f"your engine {p.parent.name}/{p.name}", p) for p in _earlier_engines(student_dir)
    ]
    fresh = []
    for index, (label, engine) in enumerate(engines):
        try:
            run = trtexec.profile_engine(engine, out / f"e{index}")
        except trtexec.TrtexecFailed:
            if label.startswith("your engine"):
                continue  # built for another TensorRT or board: not this practice's business
            raise
        try:
            layers: gparse.LayerFile | None = gparse.read_layer_file(run.layer_json)
        except gparse.NotDetailedError:
            layers = None
        fresh.append(
            FreshProfile(
                label,
                engine,
                run.profile_json,
                run.layer_json,
                run.stdout,
                gparse.read_profile(run.profile_json),
                layers,
            )
        )
    return fresh


@pytest.mark.points(2)
@pytest.mark.requires("tensorrt", "gpu", "trtexec")
@pytest.mark.check("p5.gpu.profile")
def test_gpu_profile_matches_trtexec_stdout(parser: Attempt[ModuleType], fresh_profiles: list[FreshProfile]) -> None:
    """Jetson: parse_profile and parse_profile_log on fresh trtexec output agree with trtexec's Total row"""
    for item in fresh_profiles:
        rows = _items(
            _call_json(parser, "parse_profile", item.profile_json), "parse_profile()", TIME_FIELDS, "LayerTime"
        )
        names = [row[0] for row in rows]
        expected = [layer.name for layer in item.profile.layers]
        expect(
            names == expected,
            f"parse_profile on {item.label}'s --exportProfile returned {len(names)} layers, the file has "
            f"{len(expected)}: {_name_diff(names, expected)}.",
        )
        tables = [t for t in gparse.read_profile_log(item.stdout) if t.total is not None]
        expect(tables, f"{item.label}: trtexec printed no --dumpProfile table (internal: check the grader's command)")
        table = tables[-1]
        assert table.total is not None
        average = sum(row[2] for row in rows)
        expect(
            abs(average - table.total.average_ms) <= 1e-3 + 1e-3 * table.total.average_ms,
            f"{item.label}: your per-layer average_ms sum to {average:.4f} ms, but trtexec's --dumpProfile Total row "
            f"says {table.total.average_ms:.4f} ms per iteration.",
        )
        percent = sum(row[4] for row in rows)
        expect(abs(percent - 100) <= 0.05, f"{item.label}: your percents sum to {percent:.3f}, trtexec's to 100.")
        log_rows = _items(
            STUDENT_FILE.call(parser, "parse_profile_log", item.stdout), "parse_profile_log()", TIME_FIELDS, "LayerTime"
        )
        log_names = [row[0] for row in log_rows]
        printed = [row.name for row in table.rows]
        expect(
            log_names == printed,
            f"parse_profile_log on {item.label}'s trtexec stdout returned {len(log_names)} rows, the table prints "
            f"{len(printed)}: {_name_diff(log_names, printed)}.",
        )


@pytest.mark.points(2)
@pytest.mark.requires("tensorrt", "gpu", "trtexec")
@pytest.mark.check("p5.gpu.layer_info")
def test_gpu_layer_info_matches_engine(
    parser: Attempt[ModuleType], fresh_profiles: list[FreshProfile], grade: Any
) -> None:
    """Jetson: parse_layer_info on fresh --exportLayerInfo files (FP32, FP16, INT8 engines)"""
    checked = 0
    for item in fresh_profiles:
        if item.layers is None:
            grade.note(f"{item.label}: built without --profilingVerbosity=detailed, layer info not checked")
            continue
        rows = _layer_rows(parser, item.layer_json)
        expected = [(x.name, x.layer_type, x.input_precision, x.output_precision) for x in item.layers.layers]
        expect(
            len(rows) == len(expected),
            f"parse_layer_info on {item.label} returned {len(rows)} layers, the file has {len(expected)}.",
        )
        for got_row, want_row in zip(rows, expected, strict=False):
            expect(
                got_row == want_row,
                f"parse_layer_info on {item.label}: got {_short(got_row, 160)}, expected {_short(want_row, 160)}.",
            )
        precisions = grader_summarize(item.profile.layers, item.layers.layers)["precision_counts"]
        grade.note(f"{item.label}: layers per input precision {precisions}")
        checked += 1
    expect(checked, "no engine with detailed layer information was profiled (internal: check the grader's builds)")


@pytest.mark.points(1)
@pytest.mark.requires("tensorrt", "gpu", "trtexec")
@pytest.mark.check("p5.gpu.perf_summary")
def test_gpu_perf_summary_matches_stdout(parser: Attempt[ModuleType], fresh_profiles: list[FreshProfile]) -> None:
    """Jetson: parse_perf_summary on fresh trtexec stdout (the benchmark run of --separateProfileRun)"""
    for item in fresh_profiles:
        # trtexec 10.3 prints no summary in a profiled run (trtexec.cpp main); profile_command adds
        # --separateProfileRun so the benchmark run prints it. Its absence is the grader's fault.
        expect(
            "=== Performance summary ===" in item.stdout,
            f"{item.label}: trtexec printed no performance summary (internal: the grader's profile command must "
            "carry --separateProfileRun; without it trtexec says 'The e2e network timing is not reported').",
        )
        want = gparse.read_perf_summary(item.stdout)
        got = STUDENT_FILE.call(parser, "parse_perf_summary", item.stdout)
        expect(isinstance(got, dict), f"parse_perf_summary() returned {type(got).__name__}; expected a dict.")
        expect(
            _close(got.get("throughput_qps"), want["throughput_qps"]),
            f"parse_perf_summary on {item.label}: throughput_qps {_short(got.get('throughput_qps'))}, "
            f"trtexec printed {want['throughput_qps']:g}.",
        )
        for key in METRIC_KEYS:
            metric = got.get(key) if isinstance(got.get(key), dict) else {}
            for name, value in want[key].items():
                expect(
                    _close(metric.get(name), value),
                    f"parse_perf_summary on {item.label}: [{key!r}][{name!r}] is {_short(metric.get(name))}, "
                    f"trtexec printed {value:g}.",
                )
