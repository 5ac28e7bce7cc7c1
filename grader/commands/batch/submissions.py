"""Finding each student's practice files in an LMS export: folders or .zip files, read defensively.

One entry per student in the SUBMISSIONS folder: a folder or a ``.zip``; the student id is the
entry's name (without ``.zip``). Inside, a practice's file is accepted at ``practiceN/<file>``, at
the top level, or one folder deeper (``<any>/practiceN/<file>``, ``<any>/<file>``), in that order
of preference; feedback says where it was found. Only regular files with the expected names are
read (plus ``calib.cache`` beside Practice 2's loader): symbolic links, absolute or ``..`` paths in
archives, oversized members and everything else are ignored, with a note. The grader process only
reads bytes here; nothing a student sent is imported or executed outside the sandbox.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from grader.practices import PRACTICES

EXTRA_FILES = {2: ("calib.cache",)}  # read next to the practice's file when present
MAX_FILE_BYTES = 16 << 20  # a practice file or calibration cache larger than this is refused
MAX_ARCHIVE_MEMBERS = 20_000
MAX_SCAN_FILES = 20_000
SKIPPED_NAMES = ("__MACOSX", ".DS_Store", "Thumbs.db")


@dataclass
class FoundFile:
    """One practice's file, read into memory."""

    practice: int
    name: str
    where: str  # e.g. "practice1/export_onnx.py" as it sits in the submission
    placement: str  # "practice folder", "top level", "one folder deeper"
    data: bytes
    extras: dict[str, bytes] = field(default_factory=dict)


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

    @property
    def safe_id(self) -> str:
        """The id as a folder name: unusual characters replaced, with a short hash when changed."""
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", self.id).strip(".") or "student"
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


def discover(root: Path) -> tuple[list[Submission], list[str]]:
    """Every entry of ``root`` (sorted by id), and notes about what was skipped."""
    entries: list[Submission] = []
    skipped: list[str] = []
    for path in sorted(root.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or path.name in SKIPPED_NAMES:
            continue
        if path.is_symlink():
            skipped.append(f"{path.name}: a symbolic link, skipped")
        elif path.is_dir():
            entries.append(Submission(path.name, path, "folder"))
        elif path.is_file() and path.suffix.lower() == ".zip":
            entries.append(Submission(path.stem, path, "zip"))
        else:
            skipped.append(f"{path.name}: not a folder or a .zip, skipped")
    seen: dict[str, Submission] = {}
    for entry in entries:
        if entry.id in seen:
            entry.id = entry.source.name  # "alice" and "alice.zip" both present: keep both, named apart
            entry.notes.append(f"another entry is also named {entry.source.stem!r}: this one is graded as {entry.id!r}")
        seen[entry.id] = entry
    return entries, skipped


def load(submission: Submission) -> Submission:
    """Read the practice files of one entry (in place); problems become notes, never exceptions."""
    try:
        if submission.kind == "zip":
            names = _zip_listing(submission)
        else:
            names = _folder_listing(submission)
    except (OSError, zipfile.BadZipFile, ValueError) as error:
        submission.unreadable = f"{submission.source.name} could not be read: {error}"
        return submission
    for number, practice in PRACTICES.items():
        choice = _choose(names, number, practice.student_file)
        if choice is None:
            continue
        relative, placement, others = choice
        if others:
            submission.notes.append(
                f"Practice {number}: several {practice.student_file} found; graded {relative}, ignored {', '.join(others)}"
            )
        data = _read(submission, relative)
        if data is None:
            submission.notes.append(f"Practice {number}: {relative} is larger than {MAX_FILE_BYTES >> 20} MB, ignored")
            continue
        found = FoundFile(number, practice.student_file, relative, placement, data)
        for extra in EXTRA_FILES.get(number, ()):
            beside = str(PurePosixPath(relative).parent / extra) if "/" in relative else extra
            if beside in names:
                extra_data = _read(submission, beside)
                if extra_data is not None:
                    found.extras[extra] = extra_data
        submission.files[number] = found
    return submission


def _folder_listing(submission: Submission) -> set[str]:
    """Relative posix paths of regular files up to two folders deep (symbolic links are never followed)."""
    root = submission.source
    names: set[str] = set()
    scanned = 0
    for folder, dirs, files in os.walk(root, followlinks=False):
        depth = len(Path(folder).relative_to(root).parts)
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_NAMES and not d.startswith("."))
        if depth >= 2:
            dirs[:] = []
        for name in files:
            scanned += 1
            if scanned > MAX_SCAN_FILES:
                submission.notes.append(f"more than {MAX_SCAN_FILES} files: the rest were not looked at")
                return names
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                if _wanted(name):
                    submission.notes.append(f"{relative} is a symbolic link: ignored (hand in the file itself)")
                continue
            if stat.S_ISREG(mode):
                names.add(relative)
    return names


def _zip_listing(submission: Submission) -> set[str]:
    """Member names of a zip that are safe regular files (no links, no absolute or '..' paths)."""
    names: set[str] = set()
    with zipfile.ZipFile(submission.source) as archive:
        members = archive.infolist()
        if len(members) > MAX_ARCHIVE_MEMBERS:
            raise ValueError(f"{len(members)} members (more than {MAX_ARCHIVE_MEMBERS})")
        for info in members:
            name = info.filename.replace("\\", "/")
            parts = PurePosixPath(name).parts
            if info.is_dir() or not parts or any(part in SKIPPED_NAMES for part in parts):
                continue
            if name.startswith("/") or ".." in parts or re.match(r"^[A-Za-z]:", name):
                if _wanted(parts[-1]):
                    submission.notes.append(f"{name}: unsafe path in the archive, ignored")
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                if _wanted(parts[-1]):
                    submission.notes.append(f"{name} is a symbolic link in the archive: ignored")
                continue
            names.add(PurePosixPath(*parts).as_posix())
    return names


def _wanted(name: str) -> bool:
    """Whether a file name is one the grader reads."""
    return name in {p.student_file for p in PRACTICES.values()} or any(name in e for e in EXTRA_FILES.values())


def _choose(names: set[str], number: int, filename: str) -> tuple[str, str, list[str]] | None:
    """The best-placed candidate for a practice's file: (path, placement, other candidates)."""
    folder = f"practice{number}"
    ranked: list[tuple[int, str, str]] = []
    for name in names:
        parts = PurePosixPath(name).parts
        if parts[-1] != filename:
            continue
        if parts == (folder, filename):
            ranked.append((0, name, "practice folder"))
        elif len(parts) == 1:
            ranked.append((1, name, "top level"))
        elif len(parts) == 3 and parts[1] == folder:
            ranked.append((2, name, "one folder deeper"))
        elif len(parts) == 2 and not parts[0].startswith("practice"):
            ranked.append((3, name, "one folder deeper"))
    if not ranked:
        return None
    ranked.sort()
    best = ranked[0]
    return best[1], best[2], [name for _, name, _ in ranked[1:]]


def _read(submission: Submission, relative: str) -> bytes | None:
    """The bytes of one member (None when too large)."""
    if submission.kind == "zip":
        with zipfile.ZipFile(submission.source) as archive:
            info = archive.getinfo(_zip_name(archive, relative))
            if info.file_size > MAX_FILE_BYTES:
                return None
            with archive.open(info) as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
    else:
        path = submission.source / relative
        if path.lstat().st_size > MAX_FILE_BYTES:
            return None
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    return None if len(data) > MAX_FILE_BYTES else data


def _zip_name(archive: zipfile.ZipFile, relative: str) -> str:
    """The member name as stored (backslashes or './' prefixes normalised in the listing)."""
    for info in archive.infolist():
        name = info.filename.replace("\\", "/")
        if PurePosixPath(name).as_posix() == relative:
            return info.filename
    raise KeyError(relative)


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
