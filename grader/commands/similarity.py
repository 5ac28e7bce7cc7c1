"""``python -m grader similarity SUBMISSIONS --out OUT``: pairs of students whose code is alike, for a human to look at.

    python -m grader similarity SUBMISSIONS --out OUT [--threshold 0.6] [--practices 1,2,...]
                                [--lms canvas|moodle|classroom|folders]

SUBMISSIONS is what ``python -m grader batch`` reads (the LMS's download or a folder). For each practice,
every pair of students' files is compared with copydetect (winnowed k-gram fingerprints, as MOSS does,
on code whose names, strings and comments are normalised away, so renaming variables or rewording
comments does not hide a copy). The stub handed out in ``assignments/practiceN/`` is the boilerplate:
what every student received counts for no one. A pair's similarity is the larger of the two shares
of each file's fingerprinted tokens (stub left out) that the other file also holds; pairs at or above
``--threshold`` are listed in OUT/similarity.json and shown side by side in OUT/similarity.html.

It only flags: no grade, gradebook or results file is read or changed, so it may write into a batch's
OUT (the batch report then links the pairs).
"""

from __future__ import annotations

import argparse
import html
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.core.files import atomic_write
from grader.core.paths import REPO

if TYPE_CHECKING:  # imported when the command runs: ``python -m grader --help`` stays fast
    import numpy as np
    from copydetect import CodeFingerprint

DEFAULT_THRESHOLD = 0.6  # 60 % of one file's own tokens (stub excluded) also in the other: worth a human's look
NOISE = 25  # copydetect's default k: matches shorter than 25 normalised characters are noise
WINDOW = 1  # guarantee == noise (copydetect's defaults): every k-gram is a fingerprint; classes are small
LMS_CHOICES = ("canvas", "moodle", "classroom", "folders")


@dataclass
class Student:
    """One student's file for one practice, as text."""

    id: str
    name: str
    text: str


@dataclass
class Pair:
    """Two students' files for one practice that are alike, with what matched."""

    practice: int
    a: Student
    b: Student
    similarity: float
    regions: list[dict[str, list[int]]]
    slices_a: Any = field(repr=False, default=None)  # copydetect's copied character ranges, for the HTML
    slices_b: Any = field(repr=False, default=None)

    def as_json(self) -> dict[str, Any]:
        """The pair in similarity.json's schema."""
        return {
            "practice": self.practice,
            "a": self.a.id,
            "b": self.b.id,
            "a_name": self.a.name,
            "b_name": self.b.name,
            "similarity": self.similarity,
            "regions": self.regions,
        }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The similarity command's options."""
    parser.add_argument("submissions", type=Path, help="the class's submissions: a folder or the LMS's .zip download")
    parser.add_argument("--out", type=Path, required=True, help="folder for similarity.json and similarity.html")
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"flag a pair when this share (0..1) of one file's own tokens is also in the other (default {DEFAULT_THRESHOLD})",
    )
    parser.add_argument("--practices", default="", help="comma-separated practice numbers to compare (default: all)")
    parser.add_argument("--lms", choices=LMS_CHOICES, default=None, help="force the LMS layout (default: detected)")


def boilerplate_hashes(text: str | None, filename: str) -> set[int]:
    """Every k-gram hash of the stub (window 1: all of them), the fingerprints no one is credited with."""
    if not text:
        return set()
    return {int(h) for h in fingerprint(text, filename, set(), window=1).hashes}


def fingerprint(text: str, filename: str, boilerplate: set[int], window: int = WINDOW) -> CodeFingerprint:
    """copydetect's fingerprint of one file, read from memory, the stub's fingerprints removed."""
    from copydetect import CodeFingerprint
    from copydetect.utils import get_token_coverage

    # copydetect's own boilerplate= also drops repeated k-grams of the student's code (0.5.0 runs
    # np.intersect1d(assume_unique=True) on hashes that are not unique): remove the stub's hashes here.
    fp = CodeFingerprint(filename, NOISE, window, fp=io.StringIO(text))
    if boilerplate:
        fp.hash_idx = {h: where for h, where in fp.hash_idx.items() if int(h) not in boilerplate}
        fp.hashes = set(fp.hash_idx)
        fp.token_coverage = get_token_coverage(fp.hash_idx, fp.k, len(fp.filtered_code))
    # Pygments drops leading blank lines before tokenising: shift every mapping back by them, or the
    # highlighted code and the line numbers would sit that many characters early.
    leading = len(text) - len(text.lstrip("\n"))
    if leading and len(fp.offsets):
        fp.offsets[:, 1] += leading
    return fp


def _to_raw(fp: CodeFingerprint, positions: np.ndarray) -> np.ndarray:
    """Positions in the normalised code mapped back to the student's text (as copydetect.compare_files does)."""
    import numpy as np

    if len(fp.offsets) == 0:
        return positions
    where = np.clip(np.searchsorted(fp.offsets[:, 0], positions), 0, fp.offsets.shape[0] - 1)
    return positions + fp.offsets[:, 1][where]


def _line(text: str, position: int) -> int:
    """1-based line number of a character position, never past the file's last line."""
    last = text.count("\n", 0, len(text.rstrip("\n"))) + 1
    return min(last, text.count("\n", 0, max(0, min(position, len(text)))) + 1)


def _lines(fp: CodeFingerprint, start: int, end: int) -> list[int]:
    """First and last line of the student's text behind normalised positions [start, end)."""
    import numpy as np

    raw = _to_raw(fp, np.array([start, max(start, end - 1)]))
    first, last = _line(fp.raw_code, int(raw[0])), _line(fp.raw_code, int(raw[1]))
    return [first, max(first, last)]


def _densest(positions: np.ndarray, k: int) -> tuple[int, int]:
    """The stretch of ``positions`` (copydetect's slices) holding most of them: where B's copy sits."""
    from copydetect.utils import get_copied_slices

    starts, ends = get_copied_slices(positions, k)
    counts = [int(((positions >= s) & (positions < e)).sum()) for s, e in zip(starts, ends, strict=True)]
    best = counts.index(max(counts))
    return int(starts[best]), int(ends[best])


def regions(fa: CodeFingerprint, fb: CodeFingerprint) -> list[dict[str, list[int]]]:
    """Each copied stretch of A (copydetect's slices) with the lines of B its fingerprints came from."""
    import numpy as np
    from copydetect.utils import get_copied_slices

    shared = fa.hashes & fb.hashes
    # (position in A, position in B) for every shared fingerprint: what pairs A's stretches with B's lines
    matches = [(i, j) for h in shared for i in fa.hash_idx[h] for j in fb.hash_idx[h]]
    if not matches:
        return []
    a_positions = np.array([i for i, _ in matches])
    b_positions = np.array([j for _, j in matches])
    starts, ends = get_copied_slices(a_positions, fa.k)
    found = []
    for start, end in zip(starts, ends, strict=True):
        inside = (a_positions >= start) & (a_positions < end)
        # A k-gram that B repeats elsewhere must not stretch B's range over the file: take B's densest stretch
        b_start, b_end = _densest(b_positions[inside], fb.k)
        found.append({"a_lines": _lines(fa, int(start), int(end)), "b_lines": _lines(fb, b_start, b_end)})
    return found


def compare_practice(
    practice: int, students: list[Student], filename: str, stub: str | None, threshold: float
) -> list[Pair]:
    """Every pair of ``students`` at or above ``threshold``, the ``stub`` (if any) as boilerplate."""
    from copydetect import compare_files

    boilerplate = boilerplate_hashes(stub, filename)
    prints = [fingerprint(student.text, filename, boilerplate) for student in students]
    pairs = []
    for x in range(len(students)):
        for y in range(x + 1, len(students)):
            _, (share_a, share_b), (slices_a, slices_b) = compare_files(prints[x], prints[y])
            similarity = round(min(1.0, float(max(share_a, share_b))), 4)
            if similarity < threshold or similarity == 0:
                continue
            found = regions(prints[x], prints[y])
            pairs.append(Pair(practice, students[x], students[y], similarity, found, slices_a, slices_b))
    return pairs


def _decode(data: bytes, label: str, notes: list[str]) -> str:
    """A student's file as text; bytes that are not UTF-8 become U+FFFD, with a note (their code still compares)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        notes.append(f"{label}: not UTF-8 text; undecodable bytes replaced, the rest compared")
        text = data.decode("utf-8", errors="replace")
    # Pygments turns CRLF (Windows) and CR into LF before tokenising: do it first, or every line
    # would shift copydetect's character positions by one.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _discover(root: Path, lms: str | None) -> list[Any]:
    """The class's entries through the batch's own discovery; an unusable SUBMISSIONS ends in one line."""
    from grader.commands.batch import submissions

    if not root.exists():
        raise SystemExit(f"similarity: {root} does not exist; give the class's submissions folder or the LMS's .zip")
    try:
        entries, _ = submissions.discover(root, lms=lms)
    except (OSError, ValueError) as error:  # submissions.IntakeError is a ValueError whose text is the one line
        raise SystemExit(f"similarity: {error}") from None
    if not entries:
        raise SystemExit(f"similarity: {root} holds no submissions (one folder or .zip per student, or an LMS download)")
    return entries


def collect(root: Path, practices: list[int], lms: str | None = None) -> tuple[dict[int, list[Student]], list[str]]:
    """Each practice's students (those who handed its file in), and notes on what could not be read."""
    from grader.commands.batch import submissions

    by_practice: dict[int, list[Student]] = {number: [] for number in practices}
    notes: list[str] = []
    for entry in _discover(root, lms):
        loaded = submissions.load(entry)
        if loaded.unreadable:
            notes.append(f"{loaded.id}: {loaded.unreadable}; left out of the similarity check")
            continue
        for number in practices:
            found = loaded.files.get(number)
            if found is not None:
                text = _decode(found.data, f"{loaded.id}: {found.where}", notes)
                by_practice[number].append(Student(loaded.id, loaded.name or "", text))
    return by_practice, notes


def stub_text(number: int) -> str | None:
    """The stub handed out for a practice (the boilerplate), or None when the repository has none."""
    from grader.practices import PRACTICES

    path = REPO / "assignments" / f"practice{number}" / PRACTICES[number].student_file
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _highlighted(text: str, slices: np.ndarray) -> str:
    """The file as escaped HTML with copydetect's copied ranges marked."""
    from copydetect.utils import highlight_overlap

    if slices is None or len(slices) == 0 or slices.shape[-1] == 0:
        return html.escape(text)
    marked, _ = highlight_overlap(text, slices, "<mark>", "</mark>", escape_html=True)
    return marked


def _person(student: Student) -> str:
    """'Name (id)' escaped for HTML, or the id alone."""
    label = f"{student.name} ({student.id})" if student.name else student.id
    return html.escape(label)


STYLE = (
    "body{font-family:sans-serif;margin:1.5em}table{width:100%;border-collapse:collapse;table-layout:fixed}"
    "td,th{vertical-align:top;border:1px solid #ccc;padding:4px}pre{white-space:pre-wrap;font-size:12px;margin:0}"
    "mark{background:#ffd27f}"
)


def render_html(pairs: list[Pair], threshold: float, tool: str) -> str:
    """similarity.html: each flagged pair's two files side by side, the matching regions highlighted."""
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Similar submissions</title><style>{STYLE}</style>",
        "</head><body><h1>Similar submissions</h1>",
        f"<p>For a human to look at; grades are unchanged. {html.escape(tool)}, stub code excluded, "
        f"threshold {threshold:.0%}. {len(pairs)} pair(s) flagged.</p>",
    ]
    for number, pair in enumerate(pairs, 1):
        lines = "; ".join(
            f"{r['a_lines'][0]}-{r['a_lines'][1]} ~ {r['b_lines'][0]}-{r['b_lines'][1]}" for r in pair.regions
        )
        parts += [
            f"<h2 id='pair-{number}'>Practice {pair.practice}: {_person(pair.a)} and {_person(pair.b)}, "
            f"{pair.similarity:.0%}</h2><p>Matching lines: {html.escape(lines) or 'none'}</p>",
            f"<table><tr><th>{_person(pair.a)}</th><th>{_person(pair.b)}</th></tr>",
            f"<tr><td><pre>{_highlighted(pair.a.text, pair.slices_a)}</pre></td>",
            f"<td><pre>{_highlighted(pair.b.text, pair.slices_b)}</pre></td></tr></table>",
        ]
    parts.append("</body></html>")
    return "\n".join(parts)


def _practices(text: str) -> list[int]:
    """Requested practice numbers, checked against the lab's practices."""
    from grader.practices import PRACTICES

    if not text.strip():
        return sorted(PRACTICES)
    try:
        numbers = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise SystemExit(f"similarity: --practices: expected numbers like 2,5, got {text!r}") from None
    unknown = [n for n in numbers if n not in PRACTICES]
    if unknown or not numbers:
        raise SystemExit(f"similarity: --practices: no practice {unknown or text!r}; the lab has {sorted(PRACTICES)}")
    return numbers


def check(root: Path, practices: list[int], threshold: float, lms: str | None = None) -> tuple[list[Pair], list[str]]:
    """All flagged pairs of the class, most similar first, and notes on what was left out."""
    from grader.practices import PRACTICES

    by_practice, notes = collect(root, practices, lms)
    pairs: list[Pair] = []
    for number, students in by_practice.items():
        students.sort(key=lambda student: student.id)
        pairs += compare_practice(number, students, PRACTICES[number].student_file, stub_text(number), threshold)
    pairs.sort(key=lambda pair: (-pair.similarity, pair.practice, pair.a.id, pair.b.id))
    return pairs, notes


def run(args: argparse.Namespace) -> int:
    """Compare the class, write OUT/similarity.json and OUT/similarity.html, print a summary; 0 when done."""
    import copydetect

    if not 0 < args.threshold <= 1:
        raise SystemExit(f"similarity: --threshold must be in (0, 1], got {args.threshold}")
    practices = _practices(args.practices)
    if args.out.exists() and not args.out.is_dir():
        raise SystemExit(f"similarity: --out {args.out} is a file; give a folder (a batch's OUT will do)")
    logging.getLogger().setLevel(logging.ERROR)  # copydetect logs a warning per untokenised file; notes say enough
    pairs, notes = check(args.submissions, practices, args.threshold, args.lms)
    tool = f"copydetect {copydetect.__version__}"
    report = {"tool": tool, "threshold": args.threshold, "pairs": [pair.as_json() for pair in pairs]}
    out = args.out
    atomic_write(out / "similarity.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    atomic_write(out / "similarity.html", render_html(pairs, args.threshold, tool))
    print(f"Similarity ({tool}, stubs excluded, threshold {args.threshold:.0%}); grades are unchanged")
    for number in practices:
        flagged = [pair for pair in pairs if pair.practice == number]
        top = f", most similar {flagged[0].a.id} ~ {flagged[0].b.id} {flagged[0].similarity:.0%}" if flagged else ""
        print(f"  Practice {number}: {len(flagged)} pair(s) flagged{top}")
    for note in notes:
        print(f"  note: {note}")
    print(f"Side by side: {out / 'similarity.html'}")
    return 0
