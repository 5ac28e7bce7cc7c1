"""The grader's own trtexec tools (grader.practices.practice5.profile): the suite trusts them for expected values.

Checked against real NVIDIA exports and logs (``<repo>/../shared/reference``, skipped when
absent), against hand-computed numbers, and against the fixture writer's known values.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from grader.backends import trtexec as trtexec_profile
from grader.commands import profile as cli
from grader.practices.practice5 import samples as fx
from grader.practices.practice5.profile import parse, plot, table

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference"
EXPORTS = REFERENCE / "trtexec-exports"
LOGS = REFERENCE / "trtexec-logs"
needs_exports = pytest.mark.skipif(not EXPORTS.is_dir(), reason=f"real trtexec exports not here ({EXPORTS})")
needs_logs = pytest.mark.skipif(not LOGS.is_dir(), reason=f"real trtexec logs not here ({LOGS})")
TRTEXEC = "/usr/src/tensorrt/bin/trtexec"


def _stems() -> list[str]:
    """Engine names of the real exports (``resnet18_A100_fp16.engine``, ...)."""
    return (
        sorted(p.name.removesuffix(".profile.json") for p in EXPORTS.glob("*.profile.json")) if EXPORTS.is_dir() else []
    )


# ---------------------------------------------------------------- real NVIDIA exports


@needs_exports
@pytest.mark.parametrize("stem", _stems())
def test_real_profile_parses_and_percentages_sum_to_100(stem: str) -> None:
    """Every real --exportProfile parses; its layers are all records but the count; percentages sum to ~100."""
    path = EXPORTS / f"{stem}.profile.json"
    raw = json.loads(path.read_text())
    profile = parse.read_profile(path)
    assert profile.count == raw[0]["count"]
    assert len(profile.layers) == len(raw) - 1
    assert math.isclose(sum(layer.percent for layer in profile.layers), 100.0, abs_tol=1e-3)
    for layer in profile.layers:
        # timeMs is the sum over `count` iterations; averageMs is timeMs / count (6 digits printed).
        assert math.isclose(layer.total_ms / profile.count, layer.average_ms, rel_tol=1e-4, abs_tol=1e-9)
    # percentage is the share of the summed layer time
    total = sum(layer.total_ms for layer in profile.layers)
    for layer in profile.layers:
        assert math.isclose(layer.percent, 100 * layer.total_ms / total, rel_tol=1e-4, abs_tol=1e-4)


@needs_exports
@pytest.mark.parametrize("stem", _stems())
def test_real_layer_info_joins_the_profile(stem: str) -> None:
    """Every real --exportLayerInfo parses, has the profile's layers by name, and a precision for each tensor."""
    layer_file = parse.read_layer_file(EXPORTS / f"{stem}.graph.json")
    profile = parse.read_profile(EXPORTS / f"{stem}.profile.json")
    assert layer_file.bindings_key == "Bindings" and len(layer_file.bindings) == 2
    assert [layer.name for layer in layer_file.layers] == [layer.name for layer in profile.layers]
    for layer in layer_file.layers:
        assert layer.input_formats and layer.output_formats
        assert layer.input_precision is not None and layer.output_precision is not None, layer


@needs_exports
def test_real_precisions_match_the_build_precision() -> None:
    """FP32 engine: only FP32; FP16 engines: FP16 plus the FP32 bindings; the QAT engine: mostly INT8."""
    counts = {
        stem: table.summarize([], parse.read_layer_info(EXPORTS / f"{stem}.graph.json"))["precision_counts"]
        for stem in _stems()
    }
    assert counts["resnet18_A100_fp32.engine"] == {"FP32": 32}
    assert counts["resnet18_A100_fp16.engine"] == {"FP32": 1, "FP16": 35}
    assert counts["tf_resnet50_RTX3090_fp16.engine"]["FP32"] == 3  # input shuffle, its reformat, nothing else
    assert counts["mobilenet.qat.onnx.engine"] == {"FP32": 5, "INT8": 53, "FP16": 15}


@needs_exports
def test_real_summary_hand_checked() -> None:
    """summarize() on resnet18 FP16 (A100): numbers read off the JSON by hand."""
    profile = parse.read_profile(EXPORTS / "resnet18_A100_fp16.engine.profile.json").layers
    layers = parse.read_layer_info(EXPORTS / "resnet18_A100_fp16.engine.graph.json")
    summary = table.summarize(profile, layers, top_k=2)
    assert math.isclose(summary["total_ms"], 1.016832, rel_tol=1e-9)  # count 1: total == average
    assert summary["top_layers"] == [
        ("Conv_0 + Relu_1", 0.111616),
        ("Reformatting CopyNode for Input Tensor 0 to Conv_0 + Relu_1", 0.080896),
    ]
    # The two Reformat layers: the input reformat (0.080896 ms) and the output one (0.007168 ms).
    reformat = [e.average_ms for e in profile if e.name.startswith("Reformatting CopyNode") and e.average_ms > 0]
    assert math.isclose(summary["time_by_type"]["Reformat"], sum(reformat), rel_tol=1e-9)
    assert math.isclose(summary["reformat_percent"], 100 * sum(reformat) / 1.016832, rel_tol=1e-9)
    assert summary["time_by_type"]["NoOp"] == 0


# ---------------------------------------------------------------- real logs


@needs_logs
def test_real_dump_profile_tables() -> None:
    """The two real --dumpProfile excerpts: a cut table (no Total) and a complete one whose rows add up."""
    tables = parse.read_profile_log((LOGS / "trtexec_dumpProfile_stdout_examples.log").read_text())
    assert [t.iterations for t in tables] == [1434, 290]
    cut, full = tables
    assert cut.total is None and len(cut.rows) == 6
    assert cut.rows[0].name == "{ForeignNode[771 + (Unnamed Layer* 1) [Shuffle]...dummy_gather_]}"
    assert cut.rows[2].name == "Conv_235 + Relu_236" and cut.rows[2].percent == 4.7
    assert full.total is not None and full.total.total_ms == 1707.30 and full.total.average_ms == 5.8873
    assert [row.name[:29] for row in full.rows] == [
        "Reformatting CopyNode for Inp",
        "{ForeignNode[/Constant_7_outp",
        "Reformatting CopyNode for Out",
    ]
    assert math.isclose(sum(row.average_ms for row in full.rows), full.total.average_ms, abs_tol=2e-4)
    assert math.isclose(sum(row.percent for row in full.rows), 100.0, abs_tol=0.2)


@needs_logs
def test_real_perf_summary() -> None:
    """The real Jetson (TensorRT 10.3) performance summary, values as printed."""
    summary = parse.read_perf_summary((LOGS / "jetson_trt10.3_resnet50_fp16_perf_summary.log").read_text())
    assert summary["throughput_qps"] == 318.007
    assert summary["latency"] == {
        "min": 3.12671,
        "max": 3.15479,
        "mean": 3.14068,
        "median": 3.14062,
        "p90": 3.14587,
        "p95": 3.14771,
        "p99": 3.15039,
    }
    assert summary["enqueue"]["p99"] == 1.0658 and summary["h2d"]["max"] == 0 and summary["d2h"]["mean"] == 0
    assert summary["gpu_compute"] == summary["latency"]  # --noDataTransfers: latency is the GPU compute time
    assert summary["total_host_walltime_s"] == 3.00622 and summary["total_gpu_compute_time_s"] == 3.00249


# ---------------------------------------------------------------- formats and edge cases


@pytest.mark.parametrize(
    ("text", "precision"),
    [
        ("Row major linear FP32", "FP32"),
        ("Channel major FP32 format where channel % 4 == 0", "FP32"),
        ("Thirty-two wide channel vectorized row major FP32 format", "FP32"),
        ("Row major linear FP16 format", "FP16"),
        ("Channel major FP16 format where channel % 8 == 0", "FP16"),
        ("Two wide channel vectorized row major FP16 format", "FP16"),
        ("Row major Int8 format", "INT8"),
        ("Four wide channel vectorized row major Int8 format", "INT8"),
        ("Channel major INT8 format where channel % 16 == 0", "INT8"),
        ("Row major linear Int32", "INT32"),
        ("Row major linear BOOL", "BOOL"),
        ("Row major linear BFloat16 format", "BF16"),
        ("Channel major BFloat16 format where channel % 8 == 0", "BF16"),
        ("Row major linear FP8 format", "FP8"),
        ("Row major linear UInt8 format", "UINT8"),
        ("Row major linear Int64 format", "INT64"),
        ("Half", "FP16"),
        ("Float", "FP32"),
        ("BFloat16", "BF16"),
        ("Bool", "BOOL"),
        ("Unknown format", None),
        ("", None),
    ],
)
def test_precision_of(text: str, precision: str | None) -> None:
    """Format/Datatype strings (long and kgen forms) map to the precision they name."""
    assert parse.precision_of(text) == precision


def test_fixture_writer_round_trip(tmp_path: Path) -> None:
    """The grader reads back every fixture file exactly as the writer's known numbers say."""
    written = fx.write_all(tmp_path)
    for case_key, files in written.items():
        case = files.case
        profile = parse.read_profile(files.profile)
        assert profile.count == case.count and profile.layers == fx.expected_profile(case), case_key
        layers = parse.read_layer_file(files.layers)
        assert layers.bindings == list(case.bindings)
        assert [(x.name, x.layer_type, x.input_precision, x.output_precision) for x in layers.layers] == [
            (x.name, x.layer_type, x.input_precision, x.output_precision) for x in fx.expected_layers(case)
        ], case_key
        for summary in (fx.SUMMARY_DEFAULT, fx.SUMMARY_CUSTOM):
            text = fx.trtexec_stdout(case, summary)
            (dumped,) = parse.read_profile_log(text)
            assert dumped.rows == fx.expected_log_rows(case) and dumped.total is not None
            perf = parse.read_perf_summary(text)
            assert {key: perf[key] for key in summary.expected()} == summary.expected()
    assert written["yolov8n_fp16_trt11"].layers.read_text().count('"I/O Tensors"') == 1
    with pytest.raises(parse.NotDetailedError, match="profilingVerbosity=detailed"):
        parse.read_layer_info(tmp_path / "not_detailed.layer.json")


def test_fixture_trt10_files_hold_raw_separators(tmp_path: Path) -> None:
    """TensorRT-10-style fixtures carry raw \\x1e/\\x1f, as trtexec writes them: strict JSON must fail."""
    files = fx.write_case(fx.TRT10_UNICODE, tmp_path)
    for path in (files.profile, files.layers):
        assert "\x1e" in path.read_text() and "\x1f" in path.read_text()
        with pytest.raises(json.JSONDecodeError, match="control character"):
            json.loads(path.read_text())
    names = [x.name for x in parse.read_profile(files.profile).layers]
    assert names == [x.name for x in parse.read_layer_info(files.layers)]


def test_fixture_numbers_are_consistent() -> None:
    """Each fixture's printed numbers obey trtexec's definitions (sum to 100, Total = sum of rows)."""
    for case in fx.CASES.values():
        records = fx.expected_profile(case)
        assert math.isclose(sum(r.percent for r in records), 100.0, abs_tol=1e-3)
        assert all(math.isclose(r.total_ms, r.average_ms * case.count, rel_tol=1e-5) for r in records)
        rows, total = fx.table_rows(case)
        assert math.isclose(sum(float(r.average) for r in rows), float(total.average), abs_tol=1e-4 * len(rows))
    for summary in (fx.SUMMARY_DEFAULT, fx.SUMMARY_CUSTOM):
        m = {k: float(v.mean) for k, v in summary.metrics.items()}
        assert math.isclose(m["latency"], m["h2d"] + m["gpu_compute"] + m["d2h"], rel_tol=1e-5)


def test_summarize_hand_computed() -> None:
    """summarize() on four layers computed by hand."""
    profile = [
        parse.LayerTime("a", 10.0, 0.1, 0.1, 40.0),
        parse.LayerTime("r", 5.0, 0.05, 0.05, 20.0),
        parse.LayerTime("b", 7.5, 0.075, 0.07, 30.0),
        parse.LayerTime("z", 2.5, 0.025, 0.02, 10.0),
    ]
    layers = [
        parse.LayerInfo("a", "CaskConvolution", "INT8", "INT8"),
        parse.LayerInfo("r", "Reformat", "FP32", "INT8"),
        parse.LayerInfo("b", "CaskConvolution", "INT8", "FP16"),
        parse.LayerInfo("m", "Myelin", None, "FP32"),
    ]
    summary = table.summarize(profile, layers, top_k=2)
    assert math.isclose(summary["total_ms"], 0.25)
    assert summary["top_layers"] == [("a", 0.1), ("b", 0.075)]
    assert summary["time_by_type"] == pytest.approx({"CaskConvolution": 0.175, "Reformat": 0.05, "Unknown": 0.025})
    assert summary["precision_counts"] == {"INT8": 2, "FP32": 1}
    assert math.isclose(summary["reformat_percent"], 20.0)
    assert table.summarize([], [])["reformat_percent"] == 0.0


def test_log_parser_keeps_names_with_record_separators() -> None:
    """Names holding \\x1e survive (str.splitlines would cut them); CRLF logs parse too."""
    case = fx.TRT10_UNICODE
    text = fx.trtexec_stdout(case, fx.SUMMARY_DEFAULT).replace("\n", "\r\n")
    (dumped,) = parse.read_profile_log(text)
    assert [row.name for row in dumped.rows] == [layer.name for layer in case.layers if layer.average_ms > 0]
    assert parse.read_perf_summary(text)["throughput_qps"] == 412.583


def test_bad_inputs_say_what_is_wrong(tmp_path: Path) -> None:
    """Broken or wrong files raise ProfileFormatError with the file's name."""
    bad = tmp_path / "broken.profile.json"
    bad.write_text('[ { "count" : 3 }\n, { "name" : ')
    with pytest.raises(parse.ProfileFormatError, match="broken.profile.json is not valid JSON"):
        parse.read_profile(bad)
    layers = tmp_path / "x.layer.json"
    layers.write_text("[1, 2]")
    with pytest.raises(parse.ProfileFormatError, match="'Layers' list"):
        parse.read_layer_info(layers)
    with pytest.raises(parse.ProfileFormatError, match="Performance summary"):
        parse.read_perf_summary("no summary here")
    with pytest.raises(parse.ProfileFormatError, match="cannot read"):
        parse.read_profile(tmp_path / "missing.json")


# ---------------------------------------------------------------- plot and CLI


def test_plot_writes_a_png(tmp_path: Path) -> None:
    """The grader's plot writes a PNG for every fixture, raw separators and no-input layers included."""
    from PIL import Image

    for case in fx.CASES.values():
        out = plot.plot(
            fx.expected_profile(case), fx.expected_layers(case), tmp_path / f"{case.key}.png", title=case.title
        )
        with Image.open(out) as image:
            assert image.format == "PNG" and image.size[0] >= 800 and image.size[1] >= 300


def test_cli_on_profile_json_finds_layer_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``python -m grader profile x.profile.json`` finds x.layer.json, prints the table, writes the PNG."""
    files = fx.write_case(fx.MOBILENET_INT8, tmp_path)
    assert cli.layer_file_for(files.profile) == files.layers
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    assert cli.main([str(files.profile)]) == 0
    out = capsys.readouterr().out
    assert "10 profiled layers (1 with zero time)" in out
    assert "Reformat layers: 18.1 % of the time" in out
    assert "INT8" in out and "CaskConvolution" in out
    assert (tmp_path / "cwd" / f"{fx.MOBILENET_INT8.key}.profile.png").is_file()  # the current folder
    assert not list(tmp_path.glob("*.png"))  # nothing written beside the exports


@needs_exports
def test_cli_on_real_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI on a real export (graph.json naming) and its plot."""
    out_png = tmp_path / "mobilenet.png"
    assert cli.main([str(EXPORTS / "mobilenet.qat.onnx.engine.profile.json"), "--out", str(out_png), "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "73 profiled layers" in out and "Slowest 3 layers" in out and "INT8" in out
    assert out_png.is_file()


def test_cli_on_saved_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI on a saved trtexec stdout: the --dumpProfile table and the performance summary."""
    log = tmp_path / "run.log"
    log.write_text(fx.trtexec_stdout(fx.DLA_LIKE, fx.SUMMARY_DEFAULT))
    assert cli.main([str(log), "--no-plot"]) == 0
    captured = capsys.readouterr()
    assert "9 profiled layers" in captured.out and "throughput 412.58 qps" in captured.out
    assert "no layer-information JSON" in captured.err


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Missing files and names-only layer files give a message, not a traceback."""
    assert cli.main([str(tmp_path / "nope.profile.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    files = fx.write_case(fx.RESNET_FP32, tmp_path)
    files.layers.write_text(fx.layer_json_text(fx.RESNET_FP32, detailed=False))
    assert cli.main([str(files.profile), "--no-plot"]) == 0
    assert "--profilingVerbosity=detailed" in capsys.readouterr().err
    empty = tmp_path / "empty.log"
    empty.write_text("&&&& PASSED TensorRT.trtexec\n")
    assert cli.main([str(empty)]) == 2
    assert "--dumpProfile" in capsys.readouterr().err


def test_cli_engine_without_trtexec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An engine on a machine without trtexec: a clear message (profiling engines is for the Jetson)."""
    monkeypatch.setattr(trtexec_profile, "find_trtexec", lambda: None)
    engine = tmp_path / "m.engine"
    engine.write_bytes(b"\0")
    assert cli.main([str(engine)]) == 2
    assert "trtexec not found" in capsys.readouterr().err


# ---------------------------------------------------------------- trtexec command lines (Jetson backend)


def test_trtexec_profile_command_is_tensorrt_10_3() -> None:
    """The profile command is the course's: --dumpProfile, --dumpLayerInfo, detailed, both exports, and
    --separateProfileRun, without which trtexec 10.3 prints no performance summary (trtexec.cpp, main)."""
    command = trtexec_profile.profile_command("m.engine", "m.profile.json", "m.layer.json", trtexec=TRTEXEC)
    assert command == [
        TRTEXEC,
        "--loadEngine=m.engine",
        "--dumpProfile",
        "--separateProfileRun",
        "--dumpLayerInfo",
        "--profilingVerbosity=detailed",
        "--exportProfile=m.profile.json",
        "--exportLayerInfo=m.layer.json",
    ]


@pytest.mark.parametrize(("precision", "flags"), [("fp32", []), ("fp16", ["--fp16"]), ("int8", ["--int8", "--fp16"])])
def test_trtexec_build_command(precision: str, flags: list[str]) -> None:
    """Builds keep detailed layer info and use only options TensorRT 10.3's trtexec accepts."""
    command = trtexec_profile.build_command("m.onnx", "m.engine", precision, trtexec=TRTEXEC)
    assert command == [
        TRTEXEC,
        "--onnx=m.onnx",
        "--saveEngine=m.engine",
        *flags,
        "--profilingVerbosity=detailed",
        "--skipInference",
    ]
    removed = ("--workspace", "--buildOnly", "--explicitBatch")
    assert not [arg for arg in command if arg.startswith(removed)]
    with pytest.raises(ValueError, match="precision"):
        trtexec_profile.build_command("m.onnx", "m.engine", "fp64", trtexec=TRTEXEC)


def test_trtexec_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without trtexec the backend says where JetPack puts it."""
    monkeypatch.setattr(trtexec_profile, "find_trtexec", lambda: None)
    with pytest.raises(trtexec_profile.TrtexecUnavailable, match="/usr/src/tensorrt/bin"):
        trtexec_profile.profile_command("m.engine", "p.json", "l.json")


# ---------------------------------------------------------------- the profile command on real files (real_files)

REAL = Path(__file__).resolve().parents[1] / "real_files"


def test_cli_reads_an_old_name_first_table(capsys: pytest.CaptureFixture[str]) -> None:
    """TensorRT 8.5.2's name-first table (an AGX Orin log): the table is printed, never 'holds no table'."""
    log = REAL / "logs" / "trt852_orin_googlenet_dla_profile_excerpt.log"
    assert cli.main([str(log), "--no-plot"]) == 0
    captured = capsys.readouterr()
    assert "holds no" not in captured.err
    assert "Reformatting CopyNode for Input Tensor 0 to prob" in captured.out  # a row of the name-first table


def test_cli_recognises_a_profile_json_by_content(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--exportProfile=x.profile`` writes JSON without a .json suffix: it is still read as a profile."""
    source = REAL / "profiles" / "trt10_rtx3060laptop_alexnet_fp16.profile.json"
    renamed = tmp_path / "alexnet.profile"
    renamed.write_bytes(source.read_bytes())
    assert cli.main([str(renamed), "--no-plot"]) == 0
    captured = capsys.readouterr()
    assert "holds no" not in captured.err and "neither" not in captured.err
    assert str(renamed) in captured.out


def test_cli_keeps_log_for_a_stdout_source(capsys: pytest.CaptureFixture[str]) -> None:
    """A stdout SOURCE without a summary plus ``--log`` with one: the summary of --log is shown."""
    source = REAL / "logs" / "trt852_orin_googlenet_dla_profile_excerpt.log"
    summary = REAL / "logs" / "trt840_xavier_meta_tegra952_summary_excerpt.log"
    assert cli.main([str(source), "--log", str(summary), "--no-plot"]) == 0
    assert "41087.7" in capsys.readouterr().out.replace(",", "")


def test_cli_warns_on_a_cut_table(capsys: pytest.CaptureFixture[str]) -> None:
    """TensorRT#3842's table stops before its Total row: the command says so."""
    log = REAL / "logs" / "trt10_issue3842_resnet50_profile_cut_excerpt.log"
    assert cli.main([str(log), "--no-plot"]) == 0
    assert "without its Total row" in capsys.readouterr().err


def test_cli_warns_on_profiled_layers_without_layer_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A profile given another engine's layer info: 'N of M profiled layers have no entry', not silence."""
    profile = REAL / "profiles" / "trt10_rtx3060laptop_alexnet_fp16.profile.json"
    layers = REAL / "profiles" / "trt10_cookbook_model_trained.layer.json"
    assert cli.main([str(profile), "--layers", str(layers), "--no-plot"]) == 0
    assert "of 14 profiled layers have no entry" in capsys.readouterr().err


def test_cli_says_why_a_profiled_run_has_no_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """A 10.x profile run without --separateProfileRun (a real log): the note names the missing flag."""
    log = REAL / "logs" / "trt1016_rtx6000ada_profile_no_separate_run.log"
    assert cli.main([str(log), "--no-plot"]) == 0
    assert "--separateProfileRun" in capsys.readouterr().err
