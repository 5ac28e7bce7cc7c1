"""The layouts of a class's hand-ins, recognised by their content, zipped (the LMS's download) or extracted.

* **Canvas** "Download Submissions": flat files ``<name>[_LATE]_<user id>_<attachment id>_<file>``; the id
  is the Canvas user id, ``_LATE`` is Canvas's own late mark, and a student's uploaded ``.zip`` is read as
  that student's folder.
* **Moodle** "Download all submissions": folders ``<Full Name>_<participant id>_assignsubmission_file_``
  (newer Moodle drops the last ``_``), or flat files ``<Full Name>_<id>_assignsubmission_file_<file>``;
  online text is ignored with a note. The id is the participant id.
* **GitHub Classroom** (``gh classroom clone student-repos``): folders ``<assignment>-<username>`` (``.git``
  ignored), often inside ``<assignment>-submissions/``; the id is the username.
* **Folders**: one folder or ``.zip`` per student, named by the student's id.

Everything is read as bytes, never imported. A malformed export (a corrupt zip, ``..`` or absolute
member paths, two students with one id, a forced layout that does not fit) raises ``IntakeError``;
one student's bad upload stays a note on that student.

No layout gives a submission time. Canvas's and Moodle's zips stamp every entry with the moment the zip
was made (Canvas's ``lib/content_zipper.rb`` writes entries with rubyzip's ``get_output_stream``, whose
time defaults to now; Moodle's ``zip_writer::add_file_from_stored_file`` "defaults to current time"), so
an entry's time says when the instructor downloaded, not when the student handed in; a student's own
files and zips carry times the student set. A late policy uses ``--times`` and Canvas's ``_LATE`` mark.
Entry and file times only break ties between two copies of one file (the newer is graded); zip times
carry no zone and are read as UTC for that.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

LAYOUTS = ("canvas", "moodle", "classroom", "folders")
SKIPPED_NAMES = ("__MACOSX", ".DS_Store", "Thumbs.db")
MAX_ARCHIVE_MEMBERS = 20_000  # members of one student's own archive
MAX_MEMBERS = 200_000  # files in a whole export (a student's own archive: MAX_ARCHIVE_MEMBERS)
MAX_DEPTH = 7  # folders below SUBMISSIONS that are looked into
MAX_INNER_ZIP = 64 << 20  # a student's uploaded .zip read into memory
# content_zipper.rb get_filename: [name, "LATE" if late, id].compact.join("_"); with anonymous grading there
# is no name and the id is "anon_<anonymous id>"; then "_<attachment id>_<file>"
CANVAS = re.compile(
    r"^(?:(?P<name>.*?)_)??(?:(?P<late>LATE)_)?(?P<uid>\d+|anon_[A-Za-z0-9]+)_(?P<aid>\d+)_(?P<file>.+)$", re.DOTALL
)
MOODLE_DIR = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?$", re.DOTALL)
MOODLE_FILE = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.+)$", re.DOTALL)
CANVAS_EXAMPLE = "<name>[_LATE]_<user id>_<attachment id>_<file>, e.g. smithjohn_112233_445566_profile_parser.py"
MOODLE_EXAMPLE = "<Full Name>_<participant id>_assignsubmission_file_, e.g. Ann Lee_123_assignsubmission_file_/"



class IntakeError(ValueError):
    """A malformed export (corrupt zip, unsafe paths, one id claimed twice, a forced layout that does not fit)."""


Reader = Callable[[int], bytes]  # reads at most that many bytes


@dataclass
class Member:
    """One file handed in: where it sits (for placement), how to show it, its size and time, how to read it."""

    path: str  # posix path from the student's root
    shown: str  # as handed in, for notes and results.json
    size: int
    # orders two copies of one file, the newer larger: a zip entry's time (read as UTC), a file's mtime, or for
    # Canvas the attachment id (ids grow with each upload; its zip stamps every entry with one time)
    time: float | None
    read: Reader
    problem: str = ""  # why it is never read ("a symbolic link", "unsafe path in the archive")

    def under(self, prefix: str, shown_prefix: str = "") -> Member:
        """This member seen from the folder ``prefix`` (which it is under)."""
        path = self.path[len(prefix) + 1 :] if prefix else self.path
        return Member(path, shown_prefix + path, self.size, self.time, self.read, self.problem)


Loader = Callable[[], list[Member]]


@dataclass
class Student:
    """One student as the layout sees them, before any file is read."""

    id: str
    source: Path
    kind: str  # "folder" or "zip"
    lms: str
    loaders: list[Loader]
    name: str = ""
    marked_late: bool = False
    expand_zips: bool = False  # an uploaded .zip is the student's folder (Canvas, Moodle)
    notes: list[str] = field(default_factory=list)


@dataclass
class Export:
    """What SUBMISSIONS holds: files by path from its root, every folder, the folders that hold ``.git``."""

    path: Path
    is_zip: bool
    members: list[Member]
    dirs: set[str]
    git: set[str]
    skipped: list[str] = field(default_factory=list)
    prefix: str = ""  # the wrapper folder the layout was found in ("" for the root)

    @property
    def label(self) -> str:
        """SUBMISSIONS as messages name it."""
        return self.path.name + (f"/{self.prefix}" if self.prefix else "")

    def tops(self) -> tuple[list[str], list[str]]:
        """Top-level folder names and top-level file names, sorted."""
        folders = sorted(
            {d.split("/")[0] for d in self.dirs} | {m.path.split("/")[0] for m in self.members if "/" in m.path}
        )
        files = sorted(m.path for m in self.members if "/" not in m.path)
        return folders, files

    def inside(self, folder: str) -> Export:
        """The part of this export under the top-level ``folder``."""
        start = folder + "/"
        return Export(
            self.path,
            self.is_zip,
            [m.under(folder) for m in self.members if m.path.startswith(start)],
            {d[len(start) :] for d in self.dirs if d.startswith(start)},
            {g[len(start) :] for g in self.git if g.startswith(start)} | ({""} if folder in self.git else set()),
            self.skipped,
            f"{self.prefix}/{folder}".lstrip("/"),
        )

    def member(self, name: str) -> Member:
        """The top-level file ``name``."""
        return next(m for m in self.members if m.path == name)

    def under(self, folder: str) -> list[Member]:
        """The files under the top-level ``folder``, with paths from it."""
        start = folder + "/"
        return [m.under(folder) for m in self.members if m.path.startswith(start)]


# ---------------------------------------------------------------- reading folders and zips


def utc(date_time: tuple[int, int, int, int, int, int]) -> float:
    """A zip entry's time as POSIX seconds: ZipInfo.date_time is local time with no zone, read here as UTC."""
    try:
        return datetime(*date_time, tzinfo=timezone.utc).timestamp()
    except ValueError:  # a zip with a zero date
        return 0.0


def file_reader(path: Path) -> Reader:
    """Reads a regular file without following a link."""

    def read(limit: int) -> bytes:
        """At most ``limit`` bytes of the file."""
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            return handle.read(limit)

    return read


def walk(root: Path, max_depth: int = MAX_DEPTH) -> tuple[list[Member], set[str], set[str], int]:
    """Regular files under ``root`` (links never followed, hidden names and ``.git`` skipped), its folders,
    the folders holding ``.git``, and how many folders were too deep to look into."""
    members: list[Member] = []
    dirs: set[str] = set()
    git: set[str] = set()
    too_deep = 0
    for folder, subdirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        relative = here.relative_to(root).as_posix()
        relative = "" if relative == "." else relative
        if ".git" in subdirs or ".git" in files:
            git.add(relative)
        kept = sorted(d for d in subdirs if d not in SKIPPED_NAMES and not d.startswith("."))
        if relative.count("/") + (1 if relative else 0) >= max_depth:
            too_deep += len(kept)
            kept = []
        subdirs[:] = []
        for name in kept:
            path = here / name
            if path.is_symlink():
                members.append(_member(root, path, "a symbolic link"))
            else:
                subdirs.append(name)
                dirs.add(f"{relative}/{name}".lstrip("/"))
        for name in sorted(files):
            if name in SKIPPED_NAMES or name.startswith("."):
                continue
            path = here / name
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                members.append(_member(root, path, "a symbolic link"))
            elif stat.S_ISREG(mode):
                members.append(_member(root, path, ""))
            if len(members) > MAX_MEMBERS:
                raise ValueError(f"more than {MAX_MEMBERS} files")
    return members, dirs, git, too_deep


def _member(root: Path, path: Path, problem: str) -> Member:
    """A file of a folder as a member."""
    relative = path.relative_to(root).as_posix()
    info = path.lstat()
    return Member(relative, relative, info.st_size, info.st_mtime, file_reader(path), problem)


def zip_members(
    open_zip: Callable[[], zipfile.ZipFile], shown_prefix: str = "", strict_label: str = ""
) -> tuple[list[Member], set[str], set[str]]:
    """The files, folders and folders holding ``.git`` of an archive, each with its entry's time.

    With ``strict_label`` (SUBMISSIONS itself) an unsafe path refuses the whole export; otherwise it is a
    member that is never read (a note on that student).
    """
    members: list[Member] = []
    dirs: set[str] = set()
    git: set[str] = set()
    with open_zip() as archive:
        infos = archive.infolist()
        limit = MAX_MEMBERS if strict_label else _student_limit()
        if len(infos) > limit:
            raise ValueError(f"{len(infos)} members (more than {limit})")
        for info in infos:
            name = decoded_name(info).replace("\\", "/")
            parts = PurePosixPath(name).parts
            unsafe = name.startswith("/") or ".." in parts or bool(re.match(r"^[A-Za-z]:", name))
            if unsafe and strict_label:
                raise IntakeError(
                    f"{strict_label}: the archive holds an unsafe path {info.filename!r} (absolute or '..'): refused"
                )
            if ".git" in parts:
                git.add("/".join(parts[: parts.index(".git")]))
                continue
            if not parts or any(part in SKIPPED_NAMES for part in parts):
                continue
            if not unsafe and any(part.startswith(".") for part in parts):
                continue  # hidden files, as a folder's walk skips them: zipped and extracted read alike
            clean = PurePosixPath(*parts).as_posix()
            if info.is_dir():
                dirs.add(clean.rstrip("/"))
                continue
            when = utc(info.date_time)
            problem = "unsafe path in the archive" if unsafe else ""
            if not problem and stat.S_ISLNK(info.external_attr >> 16):
                problem = "a symbolic link in the archive"
            path = name if unsafe else clean
            members.append(
                Member(path, shown_prefix + path, info.file_size, when, _zip_reader(open_zip, info.filename), problem)
            )
    for member in list(members):  # every parent folder of a file is a folder
        parent = PurePosixPath(member.path).parent
        while str(parent) not in (".", "/") and not member.problem:
            dirs.add(parent.as_posix())
            parent = parent.parent
    return members, dirs, git


def decoded_name(info: zipfile.ZipInfo) -> str:
    """An entry's name: zips written without the UTF-8 flag (Info-ZIP, Windows) often hold UTF-8 anyway,
    which Python decodes as cp437 (王小明 comes out as mojibake); read it back as UTF-8 when it is that."""
    if info.flag_bits & 0x800 or info.filename.isascii():
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _student_limit() -> int:
    """How many members a student's own archive may have (read at call time: a test may lower it)."""
    return MAX_ARCHIVE_MEMBERS


def _zip_reader(open_zip: Callable[[], zipfile.ZipFile], filename: str) -> Reader:
    """Reads one entry of an archive."""

    def read(limit: int) -> bytes:
        """At most ``limit`` bytes of the entry."""
        with open_zip() as archive, archive.open(filename) as handle:
            return handle.read(limit)

    return read


def zip_of_bytes(data: bytes) -> Callable[[], zipfile.ZipFile]:
    """Opens an archive held in memory."""
    return lambda: zipfile.ZipFile(io.BytesIO(data))


def zip_of_path(path: Path) -> Callable[[], zipfile.ZipFile]:
    """Opens an archive on disk."""
    return lambda: zipfile.ZipFile(path)


def read_export(path: Path) -> Export:
    """SUBMISSIONS (a folder or the LMS's .zip) as an Export, or IntakeError naming what is wrong with it."""
    if path.is_dir():
        try:
            members, dirs, git, too_deep = walk(path)
        except (OSError, ValueError) as error:
            raise IntakeError(f"{path}: could not be read: {error}") from None
        export = Export(path, False, members, dirs, git)
        if too_deep:
            export.skipped.append(
                f"{too_deep} folder(s) more than {MAX_DEPTH} levels below {path.name} were not looked into"
            )
        return export
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()  # reads every entry: a corrupt one is found now, before anything is graded
        if bad is not None:
            raise IntakeError(f"{path}: the archive is corrupt (entry {bad!r} fails its CRC check); download it again")
        members, dirs, git = zip_members(zip_of_path(path), strict_label=str(path))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError) as error:
        if isinstance(error, IntakeError):
            raise
        raise IntakeError(f"{path}: not a readable zip (truncated or corrupt: {error}); download it again") from None
    return Export(path, True, members, dirs, git)


# ---------------------------------------------------------------- recognising the layout


@dataclass
class Signals:
    """What the top level of an export looks like."""

    folders: list[str]
    files: list[str]
    canvas: list[str]  # files named like Canvas's
    moodle: list[str]  # folders or files named like Moodle's
    prefix: str  # the folders' common "<assignment>-" prefix ("" when none)
    git: bool  # one of the folders holds .git


def signals(export: Export) -> Signals:
    """The top level's names, and which layout they look like."""
    folders, files = export.tops()
    moodle = [f for f in folders if MOODLE_DIR.match(f)] + [f for f in files if MOODLE_FILE.match(f)]
    canvas = [f for f in files if CANVAS.match(f) and not MOODLE_FILE.match(f)]
    return Signals(folders, files, canvas, moodle, common_prefix(folders), any(f in export.git for f in folders))


def common_prefix(names: list[str]) -> str:
    """The longest common prefix of two or more names that ends in '-' and leaves every name something."""
    if len(names) < 2:
        return ""
    prefix = os.path.commonprefix(names)
    prefix = prefix[: prefix.rfind("-") + 1]
    return prefix if all(len(name) > len(prefix) for name in names) else ""


def unwrap(export: Export) -> Export:
    """The export itself, or its one top folder when that holds the layout (``<assignment>-submissions/``)."""
    s = signals(export)
    if len(s.folders) != 1 or s.files:
        return export
    inner = export.inside(s.folders[0])
    t = signals(inner)
    looks_lms = bool(t.moodle or t.canvas or (t.git and t.prefix))
    return inner if looks_lms or s.folders[0].endswith("-submissions") else export


def decide(export: Export, forced: str | None) -> str:
    """The layout: ``forced`` when it fits (IntakeError when not), else recognised from the names."""
    s = signals(export)
    if forced is not None:
        _check_fit(export, s, forced)
        return forced
    if s.moodle and s.canvas:
        raise IntakeError(
            f"{export.label}: holds both Canvas files ({s.canvas[0]}) and Moodle entries ({s.moodle[0]}): "
            "give --lms canvas or --lms moodle"
        )
    if s.moodle:
        return "moodle"
    if s.canvas:
        return "canvas"
    wrapped = Path(export.label).name.endswith("-submissions")
    if s.prefix and (s.git or wrapped) or (len(s.folders) == 1 and s.git):
        return "classroom"
    if s.prefix:
        export.skipped.append(
            f"the folders share the prefix {s.prefix!r} like GitHub Classroom repositories, but none holds .git: "
            "read as one folder per student, ids are the folder names (give --lms classroom for user names)"
        )
    return "folders"


def _check_fit(export: Export, s: Signals, forced: str) -> None:
    """IntakeError when SUBMISSIONS does not look like the layout ``--lms`` names."""
    problem = ""
    if forced == "canvas" and not s.canvas:
        problem = f"no file is named like a Canvas download ({CANVAS_EXAMPLE})"
    elif forced == "moodle" and not s.moodle:
        problem = f"no folder or file is named like a Moodle download ({MOODLE_EXAMPLE})"
    elif forced == "classroom" and not s.folders:
        problem = "there is no repository folder (<assignment>-<username>/)"
    elif forced == "classroom" and len(s.folders) > 1 and not s.prefix:
        problem = f"the folders ({', '.join(s.folders[:3])}) share no '<assignment>-' prefix"
    elif forced == "classroom" and len(s.folders) == 1 and "-" not in s.folders[0].rstrip("-"):
        problem = f"the folder {s.folders[0]!r} is not named <assignment>-<username>"
    elif forced == "folders" and not (s.folders or any(f.lower().endswith(".zip") for f in s.files)):
        problem = "there is no folder or .zip per student"
    if problem:
        raise IntakeError(f"{export.label}: --lms {forced} does not fit: {problem}")


# ---------------------------------------------------------------- one Student per layout


def students(export: Export, forced: str | None) -> list[Student]:
    """The students of an export, in the layout recognised (or forced)."""
    export = unwrap(export)
    layout = decide(export, forced)
    if layout == "canvas":
        found = canvas(export)
    elif layout == "moodle":
        found = moodle(export)
    elif layout == "classroom":
        found = classroom(export, forced == "classroom")
    else:
        found = folders(export)
    return sorted(found, key=lambda student: student.id)


def _fixed(members: list[Member]) -> Loader:
    """A loader of members already listed."""
    return lambda: list(members)


def _source(export: Export, name: str) -> Path:
    """Where an entry is (a path inside SUBMISSIONS, real or in the zip)."""
    return export.path / export.prefix / name if export.prefix else export.path / name


def _refuse_folders(export: Export, names: list[str], layout: str) -> None:
    """Folders where a layout expects only files are skipped, with a note."""
    for name in names:
        export.skipped.append(f"{name}/: a folder in a {layout} download, skipped")


def canvas(export: Export) -> list[Student]:
    """Canvas's flat files, one Student per user id (several files each), ``_LATE`` read as Canvas's late mark."""
    s = signals(export)
    _refuse_folders(export, s.folders, "Canvas")
    by_id: dict[str, Student] = {}
    files: dict[str, list[Member]] = {}
    for name in s.files:
        match = CANVAS.match(name)
        if match is None or MOODLE_FILE.match(name):
            export.skipped.append(f"{name}: not named like a Canvas submission file ({CANVAS_EXAMPLE}), skipped")
            continue
        uid = match["uid"]
        student = by_id.get(uid)
        if student is None:
            student = by_id[uid] = Student(
                uid, _source(export, name), "zip" if export.is_zip else "folder", "canvas", [], match["name"] or "",
                expand_zips=True,
            )  # fmt: skip
            files[uid] = []
        elif student.name != (match["name"] or ""):
            raise IntakeError(
                f"{export.label}: two students claim the Canvas user id {uid}: {student.source.name!r} and {name!r}"
            )
        student.marked_late |= bool(match["late"])
        member = export.member(name)
        # shown as the export names it: two uploads of one file name stay apart in the notes
        files[uid].append(Member(match["file"], name, member.size, float(match["aid"]), member.read, member.problem))
    for uid, student in by_id.items():
        student.loaders.append(_fixed(_short_names(files[uid])))
    return list(by_id.values())


def _short_names(members: list[Member]) -> list[Member]:
    """Canvas files shown by the student's own name, or by the export's where two uploads share that name."""
    counts: dict[str, int] = {}
    for member in members:
        counts[member.path] = counts.get(member.path, 0) + 1
    for member in members:
        if counts[member.path] == 1:
            member.shown = member.path
    return members


def moodle(export: Export) -> list[Student]:
    """Moodle's folders (or flat files) per participant id; online text is ignored with a note."""
    s = signals(export)
    by_id: dict[str, Student] = {}
    for name in [*s.folders, *s.files]:
        is_folder = name in s.folders
        match = (MOODLE_DIR if is_folder else MOODLE_FILE).match(name)
        if match is None:
            export.skipped.append(f"{name}: not named like a Moodle submission ({MOODLE_EXAMPLE}), skipped")
            continue
        if match["plugin"] != "file":
            export.skipped.append(f"{name}: a Moodle {match['plugin']} submission (not files), ignored")
            continue
        student = by_id.get(match["id"])
        if student is None:
            student = by_id[match["id"]] = Student(
                match["id"], _source(export, name), "zip" if export.is_zip else "folder", "moodle", [], match["name"],
                expand_zips=True,
            )  # fmt: skip
        elif student.name != match["name"]:
            raise IntakeError(
                f"{export.label}: two students claim the Moodle participant id {match['id']}: "
                f"{student.source.name!r} and {name!r}"
            )
        if is_folder:
            student.loaders.append(_fixed(export.under(name)))
        else:
            member = export.member(name)
            student.loaders.append(
                _fixed([Member(match["file"], match["file"], member.size, member.time, member.read, member.problem)])
            )
    return list(by_id.values())


def classroom(export: Export, forced: bool) -> list[Student]:
    """GitHub Classroom repositories ``<assignment>-<username>``: the id is the username."""
    s = signals(export)
    prefix = s.prefix
    if len(s.folders) == 1 and forced:
        prefix = s.folders[0][: s.folders[0].rstrip("-").rfind("-") + 1]
    for name in s.files:
        export.skipped.append(f"{name}: a file beside the GitHub Classroom repositories, skipped")
    found = []
    for name in s.folders:
        sid = name[len(prefix) :]
        student = Student(sid, _source(export, name), "zip" if export.is_zip else "folder", "classroom", [])
        student.loaders.append(_fixed(export.under(name)))
        if prefix:
            why = (
                "the repositories' common prefix"
                if len(s.folders) > 1
                else "up to the last '-', as --lms classroom asks"
            )
            student.notes.append(f"GitHub Classroom repository {name}: id {sid!r} ({prefix!r} removed: {why})")
        else:
            student.notes.append(
                f"GitHub Classroom repository {name}: the only one, so its assignment prefix is unknown: the id is "
                "the folder name (give --lms classroom to take the part after the last '-')"
            )
        found.append(student)
    return found


def folders(export: Export) -> list[Student]:
    """One folder or .zip per student, named by the id; a folder and a .zip of one id are read together."""
    s = signals(export)
    by_id: dict[str, Student] = {}
    for name in s.folders:
        by_id[name] = Student(name, _source(export, name), "folder", "folders", [_fixed(export.under(name))])
    for name in s.files:
        member = export.member(name)
        if member.problem:
            export.skipped.append(f"{name}: {member.problem}, skipped")
            continue
        if not name.lower().endswith(".zip"):
            export.skipped.append(f"{name}: not a folder or a .zip, skipped")
            continue
        sid = name[:-4]
        on_disk = None if export.is_zip else _source(export, name)
        loader = student_zip(member, on_disk)
        zipped = Student(sid, _source(export, name), "zip", "folders", [loader])
        folder = by_id.get(sid)
        if folder is not None and export.under(sid):
            folder.loaders = [
                _fixed([m.under("", f"{sid}/") for m in export.under(sid)]),
                student_zip(member, on_disk, f"{name}/"),
            ]
            folder.notes.append(
                f"{sid}/ and {name} are both here: read together (where both hold a practice's file, the newer is graded)"
            )
            continue
        if folder is not None:
            zipped.id = name  # an empty folder beside the zip: keep both, named apart
            zipped.notes.append(f"another entry is also named {sid!r}: this one is graded as {name!r}")
        by_id[zipped.id] = zipped
    return list(by_id.values())


def student_zip(member: Member, on_disk: Path | None = None, shown_prefix: str = "") -> Loader:
    """A loader of a student's own archive: from disk when it is a file there, else read into memory."""

    def load() -> list[Member]:
        """The archive's members."""
        if on_disk is not None:
            return zip_members(zip_of_path(on_disk), shown_prefix)[0]
        if member.size > MAX_INNER_ZIP:
            raise ValueError(f"larger than {MAX_INNER_ZIP >> 20} MB")
        return zip_members(zip_of_bytes(member.read(MAX_INNER_ZIP + 1)), shown_prefix)[0]

    return load


def default_loaders(source: Path, kind: str) -> list[Loader]:
    """How to read a Submission made by hand (a folder or a .zip on disk)."""
    if kind == "zip":
        return [student_zip(Member(source.name, source.name, 0, None, file_reader(source)), source)]
    return [lambda: walk(source)[0]]
