"""``python -m grader similarity``: a copy with renamed names is flagged, stubs and honest work are not.

A class of five, Practice 5 (profile_parser.py), each file built from the real stub as a student
would hand it in: ana and eve wrote their own code, ben copied ana (names and comments changed,
one function rewritten), cat and dan handed in the stub untouched.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from grader.commands import similarity
from grader.core.paths import REPO

STUB = (REPO / "assignments" / "practice5" / "profile_parser.py").read_text(encoding="utf-8")
FILE = "profile_parser.py"

# ana's own code (independent of the reference solution).
ANA = {
    "precision_of": '''
        # whole words only: "BFloat16" must not be read as "Float"
        table = {"FP32": "FP32", "Float": "FP32", "FP16": "FP16", "Half": "FP16", "BF16": "BF16",
                 "BFloat16": "BF16", "FP8": "FP8", "Int8": "INT8", "INT8": "INT8", "Int32": "INT32",
                 "INT32": "INT32", "BOOL": "BOOL", "Bool": "BOOL"}
        hits = [table[w] for w in re.findall(r"[A-Za-z0-9]+", format_string) if w in table]
        return hits[0] if hits else None
    ''',
    "parse_profile": '''
        records = json.loads(Path(path).read_text(encoding="utf-8"), strict=False)
        result = []
        for rec in records:
            if "name" not in rec:
                continue  # the {"count": N} header
            median = rec.get("medianMs")
            result.append(LayerTime(rec["name"], float(rec["timeMs"]), float(rec["averageMs"]),
                                    None if median is None else float(median), float(rec["percentage"])))
        return result
    ''',
    "parse_layer_info": '''
        data = json.loads(Path(path).read_text(encoding="utf-8"), strict=False)
        out = []
        for item in data["Layers"]:
            if isinstance(item, str):
                raise ValueError(f"{path}: layer names only; rebuild with --profilingVerbosity=detailed")
            ins, outs = item.get("Inputs") or [], item.get("Outputs") or []
            first_in = precision_of(ins[0]["Format/Datatype"]) if ins else None
            first_out = precision_of(outs[0]["Format/Datatype"]) if outs else None
            out.append(LayerInfo(item["Name"], item["LayerType"], first_in, first_out))
        return out
    ''',
    "parse_profile_log": '''
        rows = []
        reading = False
        pattern = re.compile(r"^\\s*([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+(.*?)\\s*$")
        for raw in text.split("\\n"):
            line = re.sub(r"^\\[[^\\]]*\\] \\[[A-Z]\\] ?", "", raw)
            if line.startswith("=== Profile ("):
                reading = True
                continue
            match = pattern.match(line) if reading else None
            if match is None:
                continue
            if match.group(5) == "Total":
                break
            numbers = [float(match.group(i)) for i in range(1, 5)]
            rows.append(LayerTime(match.group(5), *numbers))
        return rows
    ''',
    "summarize": '''
        kinds = {info.name: info.layer_type for info in layers}
        total = 0.0
        per_type = {}
        for t in profile:
            total += t.average_ms
            key = kinds.get(t.name, "Unknown")
            per_type[key] = per_type.get(key, 0.0) + t.average_ms
        ranked = sorted(profile, key=lambda t: -t.average_ms)
        counts = {}
        for info in layers:
            if info.input_precision is not None:
                counts[info.input_precision] = counts.get(info.input_precision, 0) + 1
        share = 100.0 * per_type.get("Reformat", 0.0) / total if total else 0.0
        return {"total_ms": total, "top_layers": [(t.name, t.average_ms) for t in ranked[:top_k]],
                "time_by_type": per_type, "precision_counts": counts, "reformat_percent": share}
    ''',
}

# ben: ana's code with every name changed and other comments; parse_profile_log he wrote himself.
BEN = {
    "precision_of": '''
        # look up complete tokens, never substrings
        mapping = {"FP32": "FP32", "Float": "FP32", "FP16": "FP16", "Half": "FP16", "BF16": "BF16",
                   "BFloat16": "BF16", "FP8": "FP8", "Int8": "INT8", "INT8": "INT8", "Int32": "INT32",
                   "INT32": "INT32", "BOOL": "BOOL", "Bool": "BOOL"}
        found = [mapping[tok] for tok in re.findall(r"[A-Za-z0-9]+", format_string) if tok in mapping]
        return found[0] if found else None
    ''',
    "parse_profile": '''
        entries = json.loads(Path(path).read_text(encoding="utf-8"), strict=False)
        layers_out = []
        for e in entries:
            if "name" not in e:
                continue  # skip iteration count
            med = e.get("medianMs")
            layers_out.append(LayerTime(e["name"], float(e["timeMs"]), float(e["averageMs"]),
                                        None if med is None else float(med), float(e["percentage"])))
        return layers_out
    ''',
    "parse_layer_info": '''
        doc = json.loads(Path(path).read_text(encoding="utf-8"), strict=False)
        infos = []
        for layer in doc["Layers"]:
            if isinstance(layer, str):
                raise ValueError(f"{path}: only names here; rebuild using --profilingVerbosity=detailed")
            inputs, outputs = layer.get("Inputs") or [], layer.get("Outputs") or []
            p_in = precision_of(inputs[0]["Format/Datatype"]) if inputs else None
            p_out = precision_of(outputs[0]["Format/Datatype"]) if outputs else None
            infos.append(LayerInfo(layer["Name"], layer["LayerType"], p_in, p_out))
        return infos
    ''',
    "parse_profile_log": '''
        table_started = False
        result = []
        for line in text.split("\\n"):
            body = line.split("] ", 2)[-1] if line.startswith("[") else line
            if "=== Profile (" in body:
                table_started = True
            elif table_started:
                parts = body.split()
                if len(parts) >= 5 and parts[4] == "Total":
                    return result
                try:
                    values = [float(x) for x in parts[:4]]
                except ValueError:
                    continue
                if len(values) == 4 and len(parts) > 4:
                    result.append(LayerTime(" ".join(parts[4:]), values[0], values[1], values[2], values[3]))
        return result
    ''',
    "summarize": '''
        type_of = {l.name: l.layer_type for l in layers}
        whole = 0.0
        by_kind = {}
        for lt in profile:
            whole += lt.average_ms
            k = type_of.get(lt.name, "Unknown")
            by_kind[k] = by_kind.get(k, 0.0) + lt.average_ms
        order = sorted(profile, key=lambda lt: -lt.average_ms)
        tally = {}
        for l in layers:
            if l.input_precision is not None:
                tally[l.input_precision] = tally.get(l.input_precision, 0) + 1
        pct = 100.0 * by_kind.get("Reformat", 0.0) / whole if whole else 0.0
        return {"total_ms": whole, "top_layers": [(lt.name, lt.average_ms) for lt in order[:top_k]],
                "time_by_type": by_kind, "precision_counts": tally, "reformat_percent": pct}
    ''',
}

# eve: her own rewrite along the lines of the reference solution (different from ana's).
EVE_PREAMBLE = '''
DATATYPE_WORDS = dict(
    pair.split("=") for pair in "FP32=FP32 Float=FP32 FP16=FP16 Half=FP16 BF16=BF16 BFloat16=BF16 FP8=FP8 "
    "Int8=INT8 INT8=INT8 Int32=INT32 INT32=INT32 BOOL=BOOL Bool=BOOL".split()
)
'''
EVE = {
    "precision_of": '''
        for word in re.findall(r"[A-Za-z0-9]+", format_string):
            if word in DATATYPE_WORDS:
                return DATATYPE_WORDS[word]
        return None
    ''',
    "parse_profile": '''
        def layer(record: dict) -> LayerTime:
            median = float(record["medianMs"]) if "medianMs" in record else None
            return LayerTime(record["name"], float(record["timeMs"]), float(record["averageMs"]), median,
                             float(record["percentage"]))

        with open(path, encoding="utf-8") as handle:
            return [layer(r) for r in json.load(handle, strict=False) if "name" in r]
    ''',
    "summarize": '''
        layer_type = {layer.name: layer.layer_type for layer in layers}
        time_by_type: dict[str, float] = defaultdict(float)
        for entry in profile:
            time_by_type[layer_type.get(entry.name, "Unknown")] += entry.average_ms
        total_ms = sum(time_by_type.values())
        slowest = sorted(profile, key=lambda entry: entry.average_ms, reverse=True)[:top_k]
        precisions = Counter(layer.input_precision for layer in layers if layer.input_precision)
        return dict(
            total_ms=total_ms,
            top_layers=[(entry.name, entry.average_ms) for entry in slowest],
            time_by_type=dict(time_by_type),
            precision_counts=dict(precisions),
            reformat_percent=(100.0 * time_by_type.get("Reformat", 0.0) / total_ms) if total_ms > 0 else 0.0,
        )
    ''',
}


def _fill(bodies: dict[str, str], preamble: str = "") -> str:
    """The stub with each named function's TODO comments and ``raise`` replaced by a body, as handed in."""
    text = STUB
    for name, body in bodies.items():
        start = text.index(f"\ndef {name}(")
        after_doc = text.index('"""\n', text.index('"""', start) + 3) + 4
        end = text.index("raise NotImplementedError\n", after_doc) + len("raise NotImplementedError\n")
        text = text[:after_doc] + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n" + text[end:]
    if preamble:
        at = text.index("\n\ndef precision_of(")
        text = text[:at] + "\n" + preamble.rstrip("\n") + "\n" + text[at:]
    return text


CLASS = {"ana": _fill(ANA), "ben": _fill(BEN), "cat": STUB, "dan": STUB, "eve": _fill(EVE, EVE_PREAMBLE)}


def _write_class(root: Path, files: dict[str, str] = CLASS) -> Path:
    """One folder per student holding ``practice5/profile_parser.py``."""
    for student, text in files.items():
        folder = root / student / "practice5"
        folder.mkdir(parents=True)
        (folder / FILE).write_text(text, encoding="utf-8")
    return root


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``python -m grader similarity ARGS`` from the repository."""
    command = [sys.executable, "-m", "grader", "similarity", *map(str, args)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)


def _pairs(pairs: list[similarity.Pair]) -> dict[tuple[str, str], similarity.Pair]:
    """Flagged pairs by (a, b) ids."""
    return {(pair.a.id, pair.b.id): pair for pair in pairs}


def _body_lines(text: str, name: str) -> tuple[int, int]:
    """First and last line (1-based) of the code after a function's docstring, up to the next definition."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(f"def {name}("))
    doc_open = next(i for i in range(start, len(lines)) if '"""' in lines[i])
    doc_close = doc_open if lines[doc_open].count('"""') == 2 else next(
        i for i in range(doc_open + 1, len(lines)) if '"""' in lines[i]
    )
    end = next((i for i in range(doc_close + 1, len(lines)) if lines[i].startswith(("def ", "@"))), len(lines))
    last = max(i for i in range(doc_close + 1, end) if lines[i].strip())
    return doc_close + 2, last + 1


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five students' submissions as folders."""
    return _write_class(tmp_path_factory.mktemp("similarity") / "submissions")


@pytest.fixture(scope="module")
def flagged(klass: Path) -> dict[tuple[str, str], similarity.Pair]:
    """Pairs flagged at the default threshold."""
    pairs, notes = similarity.check(klass, [5], similarity.DEFAULT_THRESHOLD)
    assert notes == []
    return _pairs(pairs)


def test_copy_with_renamed_names_is_flagged(flagged: dict[tuple[str, str], similarity.Pair]) -> None:
    """ana ~ ben is flagged, above the threshold, not a perfect score (ben rewrote one function)."""
    pair = flagged[("ana", "ben")]
    assert similarity.DEFAULT_THRESHOLD <= pair.similarity < 0.97
    assert pair.practice == 5


def test_regions_lie_inside_both_files_and_cover_the_copied_function(
    flagged: dict[tuple[str, str], similarity.Pair],
) -> None:
    """Some region spans summarize()'s code in ana and in ben; every region's lines exist in both files."""
    pair = flagged[("ana", "ben")]
    assert pair.regions
    lines_a, lines_b = CLASS["ana"].count("\n") + 1, CLASS["ben"].count("\n") + 1
    for region in pair.regions:
        (a1, a2), (b1, b2) = region["a_lines"], region["b_lines"]
        assert 1 <= a1 <= a2 <= lines_a and 1 <= b1 <= b2 <= lines_b, region
    body_a, body_b = _body_lines(CLASS["ana"], "summarize"), _body_lines(CLASS["ben"], "summarize")
    assert any(
        r["a_lines"][0] <= body_a[0] and r["a_lines"][1] >= body_a[1]
        and r["b_lines"][0] <= body_b[0] and r["b_lines"][1] >= body_b[1]
        for r in pair.regions
    ), (body_a, body_b, pair.regions)


def test_the_rewritten_function_is_not_a_region(flagged: dict[tuple[str, str], similarity.Pair]) -> None:
    """ben's own parse_profile_log does not show up as copied: no region lies within its code in ben."""
    first, last = _body_lines(CLASS["ben"], "parse_profile_log")
    inside = [r for r in flagged[("ana", "ben")].regions if first + 1 <= r["b_lines"][0] and r["b_lines"][1] <= last - 1]
    assert inside == []


def test_stubs_and_independent_work_are_not_flagged(flagged: dict[tuple[str, str], similarity.Pair]) -> None:
    """cat ~ dan (both the stub) and every pair with eve stay unflagged: ana ~ ben is the only pair."""
    assert list(flagged) == [("ana", "ben")]


def test_without_the_stub_as_boilerplate_two_stubs_are_flagged() -> None:
    """The stub's code is what keeps cat ~ dan out: compared without it, the two stubs are identical."""
    students = [similarity.Student("cat", "", STUB), similarity.Student("dan", "", STUB)]
    assert similarity.compare_practice(5, students, FILE, STUB, similarity.DEFAULT_THRESHOLD) == []
    bare = similarity.compare_practice(5, students, FILE, None, similarity.DEFAULT_THRESHOLD)
    assert [(p.a.id, p.b.id) for p in bare] == [("cat", "dan")]
    assert bare[0].similarity == 1.0


def test_threshold_decides_what_is_flagged(klass: Path, flagged: dict[tuple[str, str], similarity.Pair]) -> None:
    """Above ana ~ ben's similarity nothing is flagged; a low threshold flags more pairs than the default."""
    score = flagged[("ana", "ben")].similarity
    high, _ = similarity.check(klass, [5], min(1.0, score + 0.02))
    assert high == []
    low, _ = similarity.check(klass, [5], 0.01)
    assert ("ana", "ben") in _pairs(low) and len(low) > len(flagged)


def test_practices_option_limits_the_comparison(klass: Path) -> None:
    """Practice 1 alone: nobody handed in export_onnx.py, so no pair at all (Practice 5's pair is not looked at)."""
    pairs, _ = similarity.check(klass, [1], 0.01)
    assert pairs == []


def _marked(pair: similarity.Pair) -> list[str]:
    """The stretches of B's text that the side-by-side page highlights."""
    page = similarity._highlighted(pair.b.text, pair.slices_b)
    return [part.split("</mark>")[0] for part in page.split("<mark>")[1:]]


def test_crlf_and_leading_blank_lines_keep_the_line_numbers(tmp_path: Path) -> None:
    """A Windows copy with blank lines on top: the same code is highlighted, its region lines shift by the blanks."""
    windows = ("\n\n\n" + CLASS["ben"]).replace("\n", "\r\n")
    pairs, _ = similarity.check(_write_class(tmp_path / "subs", {"ana": CLASS["ana"], "ben": windows}), [5], 0.5)
    students = [similarity.Student("ana", "", CLASS["ana"]), similarity.Student("ben", "", CLASS["ben"])]
    plain = similarity.compare_practice(5, students, FILE, STUB, 0.5)
    shifted = [[b1 + 3, b2 + 3] for b1, b2 in (r["b_lines"] for r in plain[0].regions)]
    assert [r["b_lines"] for r in pairs[0].regions] == shifted
    assert pairs[0].similarity == plain[0].similarity
    assert _marked(pairs[0]) == _marked(plain[0]) != []


def test_cli_writes_json_and_html(klass: Path, tmp_path: Path) -> None:
    """The command's similarity.json follows the schema with the students' ids; the HTML marks the matches."""
    out = tmp_path / "out"
    completed = _cli(klass, "--out", out, "--practices", "5")
    assert completed.returncode == 0, completed.stderr
    assert "Practice 5: 1 pair(s) flagged, most similar ana ~ ben" in completed.stdout
    report = json.loads((out / "similarity.json").read_text(encoding="utf-8"))
    assert set(report) == {"tool", "threshold", "pairs"}
    assert report["tool"].startswith("copydetect 0.5") and report["threshold"] == similarity.DEFAULT_THRESHOLD
    [pair] = report["pairs"]
    assert set(pair) == {"practice", "a", "b", "a_name", "b_name", "similarity", "regions"}
    assert (pair["practice"], pair["a"], pair["b"], pair["a_name"], pair["b_name"]) == (5, "ana", "ben", "", "")
    assert 0.6 <= pair["similarity"] <= 1
    for region in pair["regions"]:
        assert set(region) == {"a_lines", "b_lines"}
        assert all(isinstance(n, int) for n in region["a_lines"] + region["b_lines"])
    page = (out / "similarity.html").read_text(encoding="utf-8")
    assert "ana" in page and "ben" in page and "<mark>" in page
    assert "<th>ana</th>" in page and "<th>ben</th>" in page
    assert "<th>cat</th>" not in page and "<th>eve</th>" not in page


def test_inside_a_batch_out_only_adds_its_two_files(klass: Path, tmp_path: Path) -> None:
    """Run into a batch's OUT: gradebook.csv and every other file stay byte for byte as they were."""
    out = tmp_path / "out"
    files = {
        "gradebook.csv": "\ufeffid,name,practice5\r\nana,,80\r\nben,,80\r\n".encode(),
        "ana/results.json": b'{"score": 80}\n',
        "ana/feedback.md": b"# Feedback for ana\n",
        "report.html": b"<html>batch</html>\n",
    }
    for name, data in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    completed = _cli(klass, "--out", out)
    assert completed.returncode == 0, completed.stderr
    found = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert found == set(files) | {"similarity.json", "similarity.html"}
    assert {name: (out / name).read_bytes() for name in files} == files


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("MISSING",), "does not exist"),
        (("KLASS", "--threshold", "0"), "--threshold"),
        (("KLASS", "--threshold", "1.5"), "--threshold"),
        (("KLASS", "--practices", "x"), "--practices"),
        (("KLASS", "--practices", "9"), "--practices"),
    ],
)
def test_bad_input_ends_in_one_line_and_writes_nothing(
    klass: Path, tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    """Each bad input: exit != 0, one line on stderr naming the problem, no OUT written."""
    out = tmp_path / "out"
    paths = {"MISSING": tmp_path / "no-such-class", "KLASS": klass}
    completed = _cli(*(paths.get(arg, arg) for arg in args), "--out", out)
    assert completed.returncode != 0
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and lines[0].startswith("similarity:"), completed.stderr
    assert not out.exists()


def test_lms_download_zip_gives_ids_and_names(tmp_path: Path) -> None:
    """A Moodle "Download all submissions" .zip: pairs carry the participant ids and the students' names."""
    download = tmp_path / "moodle.zip"
    with zipfile.ZipFile(download, "w") as archive:
        for folder, text in [("Ana Lima_101", CLASS["ana"]), ("Ben Ng_102", CLASS["ben"]), ("Cat Wu_103", STUB)]:
            archive.writestr(f"{folder}_assignsubmission_file_/{FILE}", text)
    out = tmp_path / "out"
    completed = _cli(download, "--out", out, "--lms", "moodle")
    assert completed.returncode == 0, completed.stderr
    [pair] = json.loads((out / "similarity.json").read_text(encoding="utf-8"))["pairs"]
    assert (pair["a"], pair["b"], pair["a_name"], pair["b_name"]) == ("101", "102", "Ana Lima", "Ben Ng")
    assert "Ana Lima (101)" in (out / "similarity.html").read_text(encoding="utf-8")


def test_a_repeated_piece_does_not_stretch_the_other_files_lines() -> None:
    """ben repeats a few lines of the copied summarize() at the end: the region still names his summarize()."""
    extra = (
        "\n\ndef _again(profile, type_of, by_kind):\n"
        "    whole = 0.0\n"
        "    for lt in profile:\n"
        "        whole += lt.average_ms\n"
        '        k = type_of.get(lt.name, "Unknown")\n'
        "        by_kind[k] = by_kind.get(k, 0.0) + lt.average_ms\n"
        "    return whole\n"
    )
    ben = CLASS["ben"] + extra
    students = [similarity.Student("ana", "", CLASS["ana"]), similarity.Student("ben", "", ben)]
    [pair] = similarity.compare_practice(5, students, FILE, STUB, similarity.DEFAULT_THRESHOLD)
    body_a, body_b = _body_lines(CLASS["ana"], "summarize"), _body_lines(ben, "summarize")
    [region] = [r for r in pair.regions if r["a_lines"][0] <= body_a[0] and r["a_lines"][1] >= body_a[1]]
    again = ben[: ben.index("def _again")].count("\n") + 1
    assert region["b_lines"][0] <= body_b[0] and body_b[1] <= region["b_lines"][1] < again
