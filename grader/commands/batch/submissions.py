"""Finding each student's practice files in a class's hand-ins (any LMS layout), read defensively.

``discover`` recognises the layout by its content (``grader.commands.batch.lms``: Canvas, Moodle,
GitHub Classroom, or one folder or ``.zip`` per student), zipped or extracted; ``--lms`` forces one.
``load`` then matches each file a student handed in to a practice:

* the LMS's prefix is gone already; rename suffixes (`` (1)``, ``-1``, ``_1``) before the extension are
  dropped when the rest is a practice's file name (``profile_parser-1.py``);
* a file named like a practice's file is that practice's when it sits at ``practiceN/<file>``, the top
  level, ``<any>/practiceN/<file>``, ``<any>/<file>`` or ``<any>/assignments/practiceN/<file>`` (a copy of
  the lab repository), in that order of preference; never in another practice's folder;
* another ``.py`` file is parsed (``ast``, never imported) and matched to the practice whose functions
  (``Practice.functions``) it mostly defines: at least half of them, one of them that practice's alone;
* ``calib.cache`` (Practice 2) is recognised by name (renames too) or by its first line, a TensorRT
  calibration cache header (``TRT-8601-EntropyCalibration2``).

When several files claim one practice the exact name wins over a renamed one over content, then the
better place, then the newest; the others are named in a note. Files no practice claims are listed in
``Submission.unmatched`` and a note. Symbolic links, unsafe archive paths and oversized files are never
read. A malformed export raises ``IntakeError`` (one line naming the file); one student's unreadable
upload is a note on that student.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from grader.commands.batch.lms import IntakeError
from grader.practices import PRACTICES

if TYPE_CHECKING:
    from grader.commands.batch.lms import Member

EXTRA_FILES = {2: ("calib.cache",)}  # read next to the practice's file when present
MAX_FILE_BYTES = 16 << 20  # a practice file or calibration cache larger than this is refused
MAX_SCAN_FILES = 20_000
MAX_CONTENT_CHECKS = 500  # files of one student read to recognise them by content
MAX_CONTENT_BYTES = 1 << 20  # larger files are not parsed to recognise them (a practice file is far smaller)
RENAMED = re.compile(r"^(?P<stem>.+?)(?: \(\d+\)|-\d+|_\d+)(?P<ext>\.[^.]*)?$")
CALIBRATION_HEADER = re.compile(rb"^TRT-\w+-\w*Calibration\w*\s*$")
NAME, RENAME, CONTENT = 0, 1, 2  # how a file was matched, best first



@dataclass
class FoundFile:
    """One practice's file, read into memory."""

    practice: int
    name: str
    where: str  # e.g. "practice1/export_onnx.py" as it sits in the submission
    placement: str  # "practice folder", "top level", "one folder deeper"
    data: bytes
    extras: dict[str, bytes] = field(default_factory=dict)
    path: str = ""  # where it sits from the student's root (``where`` is as handed in)


@dataclass
class Submission:
    """One student's entry."""

    id: str
    source: Path
    kind: str  # "folder" or "zip"
    files: dict[int, FoundFile] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unreadable: str = ""  # why nothing could be read (bad archive...)
    name: str = ""  # the student's display name as the LMS gives it (UTF-8, any script); "" when unknown
    lms: str = "folders"  # the layout it came from: "canvas", "moodle", "classroom" or "folders"
    submitted_at: datetime | None = None  # timezone-aware, from the LMS where it has one; None when unknown
    marked_late: bool = False  # the LMS itself marked it late (Canvas's "_LATE_")
    unmatched: list[str] = field(default_factory=list)  # files handed in that no practice claimed
    # How to list the files (set by discover; a Submission made by hand reads ``source`` as ``kind``)
    loaders: list[Callable[[], list[Member]]] = field(default_factory=list, repr=False, compare=False)
    expand_zips: bool = field(default=False, repr=False)  # an uploaded .zip is the student's folder

    @property
    def safe_id(self) -> str:
        """The id as a folder name: letters and digits of any script kept, the rest replaced, a short hash when changed."""
        kept = "".join(c if c.isalnum() or c in "._-" else "_" for c in self.id[:100])
        safe = kept.strip(".") or "student"
        if safe != self.id:
            safe += "-" + hashlib.sha256(self.id.encode()).hexdigest()[:6]
        return safe

    def content_hash(self, practices: list[int]) -> str:
        """SHA-256 of what is graded: each requested practice's file and extras, with where they were."""
        digest = hashlib.sha256()
        for number in sorted(practices):
            found = self.files.get(number)
            if found is None:
                digest.update(f"{number}:missing\n".encode())
                continue
            digest.update(f"{number}:{found.where}:{hashlib.sha256(found.data).hexdigest()}\n".encode())
            for name in sorted(found.extras):
                digest.update(f"  {name}:{hashlib.sha256(found.extras[name]).hexdigest()}\n".encode())
        return digest.hexdigest()


def discover(root: Path, lms: str | None = None) -> tuple[list[Submission], list[str]]:
    """Every student of ``root`` (a folder or the LMS's .zip), sorted by id, and notes about what was skipped.

    ``lms`` forces a layout ("canvas", "moodle", "classroom", "folders"); without it the layout is
    recognised by its names. A malformed export raises IntakeError, whose text names the file.
    """
    from grader.commands.batch import lms as layouts

    if lms is not None and lms not in layouts.LAYOUTS:
        raise IntakeError(f"--lms {lms}: expected one of {', '.join(layouts.LAYOUTS)}")
    export = layouts.read_export(root)
    entries = []
    for student in layouts.students(export, lms):
        entry = Submission(student.id, student.source, student.kind, name=student.name, lms=student.lms)
        entry.marked_late = student.marked_late
        entry.notes.extend(student.notes)
        entry.loaders = student.loaders
        entry.expand_zips = student.expand_zips
        entries.append(entry)
    return entries, export.skipped


def load(submission: Submission) -> Submission:
    """Match the files of one student to practices (in place); problems become notes, never exceptions."""
    members = _gather(submission)
    if submission.unreadable:
        return submission
    readable = [m for m in members if not m.problem]
    for member in members:
        if member.problem and _wanted(PurePosixPath(member.path).name):
            submission.notes.append(_problem_note(member))
    used: set[str] = set()
    claims = _claims(readable)
    _note_misplaced(submission, readable, claims)
    for number, candidates in sorted(claims.items()):
        _take(submission, number, candidates, used)
    if 2 in submission.files:
        _attach_calibration(submission, submission.files[2], readable, used)
    # listed once, in its own section of the feedback, in results.json and in the report (not also as a note)
    submission.unmatched = [m.shown for m in members if m.shown not in used]
    return submission


def _gather(submission: Submission) -> list[Member]:
    """Every file of the student (uploaded archives opened where the LMS allows them); sets ``unreadable``."""
    from grader.commands.batch import lms as layouts

    loaders = submission.loaders or layouts.default_loaders(submission.source, submission.kind)
    members: list[Member] = []
    errors = []
    for loader in loaders:
        try:
            members.extend(loader())
        except (OSError, zipfile.BadZipFile, ValueError, EOFError, KeyError, NotImplementedError) as error:
            errors.append(f"{submission.source.name} could not be read: {error}")
    if submission.expand_zips:
        members = _expand(submission, members, errors)
    if errors and not members:
        submission.unreadable = errors[0]
    else:
        submission.notes.extend(errors)
    return members


def _expand(submission: Submission, members: list[Member], errors: list[str]) -> list[Member]:
    """The members with each uploaded .zip replaced by its files (read in memory, same rules)."""
    from grader.commands.batch import lms as layouts

    out = []
    for member in members:
        if member.problem or not member.path.lower().endswith(".zip"):
            out.append(member)
            continue
        try:
            inner = layouts.student_zip(member, None, member.shown + "/")()
        except (OSError, zipfile.BadZipFile, ValueError, EOFError, KeyError, NotImplementedError) as error:
            errors.append(f"{member.shown} could not be read: {error}")
            continue
        out.extend(inner)
    return out


def _note_misplaced(submission: Submission, members: list[Member], claims: dict[int, list[_Claim]]) -> None:
    """Say where the grader looks when a file named like a practice's sits elsewhere (it stays unmatched)."""
    claimed = {claim.member.shown for candidates in claims.values() for claim in candidates}
    for member in members:
        name = strip_renames(PurePosixPath(member.path).name)
        number = next((n for n, p in PRACTICES.items() if p.student_file == name), None)
        if number is not None and member.shown not in claimed:
            submission.notes.append(
                f"{member.shown}: named like Practice {number}'s file but not where the grader looks "
                f"(practice{number}/, the top level, one folder deeper, or <any>/assignments/practice{number}/), not graded"
            )


def _problem_note(member: Member) -> str:
    """The note for a file that is never read."""
    if "unsafe" in member.problem:
        return f"{member.shown}: {member.problem}, ignored"
    return f"{member.shown} is {member.problem}: ignored (hand in the file itself)"


def strip_renames(name: str) -> str:
    """``name`` without an LMS's or a student's rename suffix (``a (1).py``, ``a-1.py``, ``a_1.py`` -> ``a.py``)."""
    match = RENAMED.match(name)
    return match["stem"] + (match["ext"] or "") if match else name


def _placement(path: str, number: int) -> tuple[int, str] | None:
    """Where a practice's file sits, ranked (0 best), or None where it is not that practice's."""
    folder = f"practice{number}"
    dirs = PurePosixPath(path).parts[:-1]
    if dirs == (folder,):
        return 0, "practice folder"
    if not dirs:
        return 1, "top level"
    if len(dirs) == 2 and dirs[1] == folder:
        return 2, "one folder deeper"
    if len(dirs) == 1 and not dirs[0].startswith("practice"):
        return 3, "one folder deeper"
    if len(dirs) == 3 and dirs[1:] == ("assignments", folder):
        return 4, "two folders deeper"
    return None


@dataclass
class _Claim:
    """A file that may be a practice's: how it matched, where it sits, when."""

    member: Member
    how: int
    rank: int
    placement: str
    detail: str = ""

    def key(self) -> tuple[int, int, float, str]:
        """Best first: by name over renamed over content, the better place, the newest."""
        return self.how, self.rank, -(self.member.time or 0.0), self.member.shown


def _claims(members: list[Member]) -> dict[int, list[_Claim]]:
    """For each practice, the files that claim it: by name (renames too), else by their functions."""
    claims: dict[int, list[_Claim]] = {}
    checked = 0
    for member in members:
        name = PurePosixPath(member.path).name
        by_name = False
        for number, practice in PRACTICES.items():
            how = (
                NAME
                if name == practice.student_file
                else RENAME
                if strip_renames(name) == practice.student_file
                else -1
            )
            placed = _placement(member.path, number) if how >= 0 else None
            by_name |= how >= 0
            if placed is not None:
                claims.setdefault(number, []).append(_Claim(member, how, *placed))
        if by_name or not name.endswith(".py") or member.size > MAX_CONTENT_BYTES or member.path.count("/") > 3:
            continue
        checked += 1
        if checked > MAX_CONTENT_CHECKS:
            continue
        number, names = _by_functions(member)
        if number is not None:
            claim = _Claim(member, CONTENT, member.path.count("/"), "matched by its functions", ", ".join(names))
            claims.setdefault(number, []).append(claim)
    return claims


def _by_functions(member: Member) -> tuple[int | None, list[str]]:
    """The practice whose functions this Python file mostly defines (read with ast, never run), and those names."""
    try:
        tree = ast.parse(member.read(MAX_CONTENT_BYTES + 1))
    except (SyntaxError, ValueError, OSError, zipfile.BadZipFile, KeyError, RecursionError, MemoryError):
        return None, []  # not Python we can read: left unmatched
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    scored = []
    for number, practice in PRACTICES.items():
        hits = defined & set(practice.functions)
        others = {f for n, p in PRACTICES.items() if n != number for f in p.functions}
        if hits and 2 * len(hits) >= len(practice.functions) and hits - others:
            scored.append((len(hits) / len(practice.functions), number, sorted(hits)))
    scored.sort(reverse=True)
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        return None, []  # nothing, or two practices alike: left unmatched
    return scored[0][1], scored[0][2]


def _take(submission: Submission, number: int, candidates: list[_Claim], used: set[str]) -> None:
    """Grade the best file claiming practice ``number``; name the others."""
    practice = PRACTICES[number]
    candidates.sort(key=_Claim.key)
    best, others = candidates[0], candidates[1:]
    used.update(claim.member.shown for claim in candidates)
    if others:
        ignored = ", ".join(claim.member.shown for claim in others)
        submission.notes.append(
            f"Practice {number}: several {practice.student_file} found; graded {best.member.shown}, ignored {ignored}"
        )
    data = _read(best.member)
    if data is None:
        submission.notes.append(
            f"Practice {number}: {best.member.shown} is larger than {MAX_FILE_BYTES >> 20} MB or unreadable, ignored"
        )
        return
    if best.how == RENAME:
        submission.notes.append(f"Practice {number}: {best.member.shown} graded as {practice.student_file} (renamed)")
    elif best.how == CONTENT:
        submission.notes.append(
            f"Practice {number}: {best.member.shown} matched by its functions ({best.detail}), "
            f"graded as {practice.student_file}"
        )
    found = FoundFile(number, practice.student_file, best.member.shown, best.placement, data)
    found.path = best.member.path
    submission.files[number] = found


def _attach_calibration(submission: Submission, found: FoundFile, members: list[Member], used: set[str]) -> None:
    """Practice 2's calib.cache: by name (beside the loader first, renames too), else by its header line."""
    beside = PurePosixPath(found.path).parent
    candidates: list[tuple[int, float, str, Member]] = []
    checked = 0
    for member in members:
        if member.shown in used or member.size > MAX_FILE_BYTES:
            continue
        path = PurePosixPath(member.path)
        if path.name == "calib.cache":
            how = 0 if path.parent == beside else 1
        elif strip_renames(path.name) == "calib.cache":
            how = 2
        elif path.suffix != ".py" and checked < MAX_CONTENT_CHECKS:
            checked += 1
            how = 3 if _is_calibration(member) else -1
        else:
            how = -1
        if how >= 0:
            candidates.append((how, -(member.time or 0.0), member.shown, member))
    if not candidates:
        return
    candidates.sort(key=lambda c: c[:3])
    chosen = candidates[0][3]
    used.update(c[2] for c in candidates)
    data = _read(chosen)
    if data is None:
        submission.notes.append(f"Practice 2: {chosen.shown} is larger than {MAX_FILE_BYTES >> 20} MB, ignored")
        return
    found.extras["calib.cache"] = data
    if chosen.path != str(beside / "calib.cache").removeprefix("./"):
        submission.notes.append(f"Practice 2: {chosen.shown} used as calib.cache")
    if len(candidates) > 1:
        ignored = ", ".join(c[2] for c in candidates[1:])
        submission.notes.append(f"Practice 2: several calibration caches found; used {chosen.shown}, ignored {ignored}")


def _is_calibration(member: Member) -> bool:
    """Whether a file starts with a TensorRT calibration cache header (``TRT-8601-EntropyCalibration2``)."""
    try:
        head = member.read(256)
    except (OSError, zipfile.BadZipFile, ValueError, KeyError):
        return False
    return bool(CALIBRATION_HEADER.match(head.split(b"\n", 1)[0]))


def _read(member: Member) -> bytes | None:
    """The bytes of a member (None when too large or unreadable)."""
    if member.size > MAX_FILE_BYTES:
        return None
    try:
        data = member.read(MAX_FILE_BYTES + 1)
    except (OSError, zipfile.BadZipFile, ValueError, KeyError, EOFError):
        return None
    return None if len(data) > MAX_FILE_BYTES else data


def _wanted(name: str) -> bool:
    """Whether a file name is one the grader reads (renamed copies too)."""
    names = {p.student_file for p in PRACTICES.values()} | {e for extras in EXTRA_FILES.values() for e in extras}
    return name in names or strip_renames(name) in names


def describe_missing(practices: list[int]) -> str:
    """What the grader looks for, for an entry where nothing was found."""
    wanted = ", ".join(f"practice{n}/{PRACTICES[n].student_file}" for n in practices if n in PRACTICES)
    return f"no practice file found; expected any of: {wanted} (at the top level or one folder deeper also works)"


def remove_tree(path: Path) -> None:
    """Delete a workspace, even one whose folders a submission made read-only."""

    def retry(function, target, _excinfo):  # noqa: ANN001 - shutil's onerror signature
        try:
            os.chmod(os.path.dirname(target), 0o700)
            os.chmod(target, 0o700)
            function(target)
        except OSError:
            pass

    shutil.rmtree(path, onerror=retry)
