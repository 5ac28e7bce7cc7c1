"""TensorRT calibration caches (text format of IInt8EntropyCalibrator2 and friends).

Header ``TRT-<version>-EntropyCalibration2``, then ``tensor: XXXXXXXX`` lines, where the hex
is the big-endian float32 bits of the tensor's scale = amax / 127.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

_HEADER = re.compile(r"^TRT-(?P<version>\d+)-(?P<algorithm>\w+)$")
_ENTRY = re.compile(r"^(?P<tensor>.+): (?P<hex>[0-9a-fA-F]{8})$")


class CacheFormatError(ValueError):
    """The file is not a TensorRT calibration cache."""


@dataclass(frozen=True)
class CalibrationCache:
    """A parsed calibration cache."""

    trt_version: int
    algorithm: str
    scales: dict[str, float]

    def amax(self, tensor: str) -> float:
        """The calibrated dynamic range of ``tensor`` (scale x 127)."""
        return self.scales[tensor] * 127.0


def hex_to_float(text: str) -> float:
    """Big-endian float32 bits in hex, as TensorRT writes them."""
    return struct.unpack(">f", bytes.fromhex(text))[0]


def parse(text: str) -> CalibrationCache:
    """Parse the text of a calibration cache."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise CacheFormatError("the calibration cache is empty")
    header = _HEADER.match(lines[0])
    if header is None:
        raise CacheFormatError(f"the first line should read TRT-<version>-<Algorithm>, not {lines[0][:60]!r}")
    scales = {}
    for number, line in enumerate(lines[1:], 2):
        entry = _ENTRY.match(line)
        if entry is None:
            raise CacheFormatError(f"line {number} is not 'tensor: XXXXXXXX': {line[:60]!r}")
        scales[entry["tensor"]] = hex_to_float(entry["hex"])
    return CalibrationCache(int(header["version"]), header["algorithm"], scales)


def read(path: str | os.PathLike[str]) -> CalibrationCache:
    """Parse a calibration cache file (it is text; undecodable bytes are a format error)."""
    try:
        return parse(Path(path).read_text(encoding="ascii"))
    except UnicodeDecodeError as error:
        raise CacheFormatError(f"{Path(path).name} is not a text calibration cache ({error})") from None
