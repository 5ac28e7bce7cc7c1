"""Practice 5 grader self-test: the stub earns nothing, and each parser mistake loses exactly its points."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.practices.practice5.suite import REAL_EXPORTS, REAL_LOGS
from tests.conftest import (
    assert_loses_exactly,
    assert_release_cut_keeps_the_visible_suite,
    assert_stub_earns_nothing,
    failed,
    grade_variants,
)

REPO = Path(__file__).resolve().parent.parent
SOLUTION = REPO / "solutions" / "practice5" / "profile_parser.py"
STUB = REPO / "assignments" / "practice5" / "profile_parser.py"

REAL_TESTS = {"p5.real.exports": REAL_EXPORTS, "p5.real.logs": REAL_LOGS}
HIDDEN = {
    "p5.profile_log.raw_separators",
    "p5.str_paths",
    "p5.summarize.unknown_layer_type",
    "p5.summarize.zero_total",
}
GPU_TESTS = {
    "p5.gpu.profile",
    "p5.gpu.layer_info",
    "p5.gpu.perf_summary",
}

# name: (mutations of the reference solution, tests that must fail, text each of their messages holds)
MISTAKES: dict[str, tuple[list[tuple[str, str]], set[str], str]] = {
    "count_record_as_layer": (
        # A student reading every record with .get(): {"count": N} becomes a zero-time layer.
        [
            (
                '        if "name" not in record:\n            continue  # {"count": N}: how many iterations',
                "        #",
            ),
            ('name=record["name"],', 'name=record.get("name", ""),'),
            ('total_ms=float(record["timeMs"]),', 'total_ms=float(record.get("timeMs", 0)),'),
            ('average_ms=float(record["averageMs"]),', 'average_ms=float(record.get("averageMs", 0)),'),
            (
                'median_ms=float(record["medianMs"]) if "medianMs" in record else None,',
                'median_ms=float(record.get("medianMs", 0)),',
            ),
            ('percent=float(record["percentage"]),', 'percent=float(record.get("percentage", 0)),'),
        ],
        {"p5.profile.layers", "p5.real.exports"},
        "entries",
    ),
    "percent_as_fraction": (
        [('percent=float(record["percentage"]),', 'percent=float(record["percentage"]) / 100,')],
        {"p5.profile.percent", "p5.real.exports"},
        "percent",
    ),
    "average_is_total": (
        [('average_ms=float(record["averageMs"]),', 'average_ms=float(record["timeMs"]),')],
        {"p5.profile.times", "p5.real.exports"},
        "averageMs",
    ),
    "no_int8_mapping": (
        [('    "Int8": "INT8",\n    "INT8": "INT8",\n', "")],
        {"p5.layer_info.int8_mixed", "p5.real.exports"},
        "INT8",
    ),
    "no_kgen_half_mapping": (
        [('    "Half": "FP16",\n', "")],
        {"p5.layer_info.other_precisions"},
        "Half",
    ),
    "strict_json": (
        [("return json.loads(text, strict=False)", "return json.loads(text)")],
        {"p5.profile.raw_separator_names", "p5.layer_info.raw_separators"},
        "strict=False",
    ),
    "bindings_only": (
        [('if "Bindings" not in data and "I/O Tensors" not in data:', 'if "Bindings" not in data:')],
        {"p5.layer_info.trt11"},
        "I/O Tensors",
    ),
    "no_detailed_check": (
        [
            (
                "        if isinstance(layer, str):\n            raise ValueError(",
                "        if False:\n            raise ValueError(",
            )
        ],
        {"p5.layer_info.not_detailed"},
        "profilingVerbosity=detailed",
    ),
    "log_keeps_total_row": (
        [
            (
                '        elif entry.name == "Total":\n            in_table = False',
                '        elif entry.name == "Total!":\n            in_table = False',
            )
        ],
        {"p5.profile_log.rows", "p5.real.logs"},
        "Total",
    ),
    "fixed_percentile_keys": (
        [
            ("            stats = {}\n", '            stats = {}\n            fixed = iter(["p90", "p95", "p99"])\n'),
            ('key = f"p{percentile}" if percentile else statistic', "key = next(fixed) if percentile else statistic"),
        ],
        {"p5.perf_summary.percentiles"},
        "percentile",
    ),
    "summarize_sums_total_ms": (
        [
            (
                "total_ms = sum(entry.average_ms for entry in profile)",
                "total_ms = sum(entry.total_ms for entry in profile)",
            )
        ],
        {"p5.summarize.total", "p5.summarize.reformat_percent"},
        "total_ms",
    ),
    "reformat_as_fraction": (
        [('"reformat_percent": 100.0 * reformat_ms / total_ms', '"reformat_percent": reformat_ms / total_ms')],
        {"p5.summarize.reformat_percent"},
        "multiply by 100",
    ),
    "counts_none_precision": (
        [
            (
                "Counter(layer.input_precision for layer in layers if layer.input_precision is not None)",
                "Counter(layer.input_precision for layer in layers)",
            )
        ],
        {"p5.summarize.precision_counts"},
        "None",
    ),
    "splitlines": (
        [('for line in text.split("\\n")]', "for line in text.splitlines()]")],
        {"p5.profile_log.raw_separators"},
        'text.split("\\n")',
    ),
    "str_path_not_converted": (
        [('text = Path(path).read_text(encoding="utf-8")', 'text = path.read_text(encoding="utf-8")')],
        {"p5.str_paths"},
        "got its path as a str",
    ),
    "plot_path_methods": (
        # A str has no .parent: a Path-only plot fails for out_png given as a str.
        [
            (
                "    fig.savefig(out_png, dpi=80)\n",
                "    out_png.parent.mkdir(parents=True, exist_ok=True)\n    fig.savefig(out_png, dpi=80)\n",
            )
        ],
        {"p5.str_paths"},
        "got its path as a str",
    ),
    "unknown_type_key_error": (
        [('time_by_type[layer_type.get(entry.name, "Unknown")]', "time_by_type[layer_type[entry.name]]")],
        {"p5.summarize.unknown_layer_type"},
        "KeyError",
    ),
    "unknown_type_as_none": (
        [('time_by_type[layer_type.get(entry.name, "Unknown")]', "time_by_type[layer_type.get(entry.name)]")],
        {"p5.summarize.unknown_layer_type"},
        "expected 'Unknown'",
    ),
    "reformat_divides_by_zero": (
        [
            (
                '"reformat_percent": 100.0 * reformat_ms / total_ms if total_ms > 0 else 0.0',
                '"reformat_percent": 100.0 * reformat_ms / total_ms',
            )
        ],
        {"p5.summarize.zero_total"},
        "ZeroDivisionError",
    ),
    "memory_ignores_padding": (
        # Elements = the product of Dimensions, forgetting that vectorized formats pad the channel.
        [("            if width > 1 and len(dims) >= 3:", "            if False:")],
        {"p5.memory.vector_padding", "p5.memory.real_files"},
        "vector",
    ),
    "memory_four_bytes_per_element": (
        [("            total += math.prod(dims) * size", "            total += math.prod(dims) * 4")],
        {"p5.memory.sizes", "p5.memory.vector_padding", "p5.memory.real_files"},
        "bytes",
    ),
    "plot_saves_nothing": (
        [("    fig.savefig(out_png, dpi=80)\n", "")],
        {"p5.plot.png"},
        "nothing written at out_png",
    ),
}


def _expected(failing: set[str]) -> set[str]:
    """The tests that must fail here: real-data tests only where the shared files exist."""
    return {name for name in failing if name not in REAL_TESTS or REAL_TESTS[name].is_dir()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict]]:
    """The stub, the untouched solution and every mistake, graded in one pytest run."""
    mutations = {name: changes for name, (changes, _, _) in MISTAKES.items()}
    return grade_variants(tmp_path_factory.mktemp("p5-mistakes"), 5, SOLUTION, mutations, stub=STUB)


def test_reference_copy_earns_everything(graded: dict[str, dict[str, dict]]) -> None:
    """The untouched solution loses nothing (the baseline of the comparisons)."""
    assert failed(graded["reference"]) == set()
    assert set(graded["reference"]) >= GPU_TESTS  # GPU tests exist (skipped here)
    hidden = {name for name, test in graded["reference"].items() if test.get("visibility") == "hidden"}
    assert hidden == HIDDEN
    assert all(graded["reference"][name]["max_score"] > 0 for name in HIDDEN)  # graded here, not skipped


def test_stub_earns_nothing(graded: dict[str, dict[str, dict]]) -> None:
    """Every gradable test fails on the stub, hidden ones included, saying what is not implemented yet."""
    assert_stub_earns_nothing(graded["stub"])
    assert sum(test["score"] for test in graded["stub"].values()) == 0
    assert HIDDEN <= failed(graded["stub"])


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_mistake_loses_exactly_its_points(graded: dict[str, dict[str, dict]], mistake: str) -> None:
    """A deliberate mistake fails exactly the matching tests, each naming the problem."""
    _, failing, message = MISTAKES[mistake]
    assert_loses_exactly(graded[mistake], _expected(failing), message)


def test_release_cut_leaves_the_visible_suite_working(graded: dict[str, dict[str, dict]], tmp_path: Path) -> None:
    """The release cuts exactly the hidden tests; what is left, on its own, grades the solution fully."""
    assert_release_cut_keeps_the_visible_suite(graded["reference"], tmp_path, 5, HIDDEN, SOLUTION)
