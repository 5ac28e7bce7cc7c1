"""``python -m grader profile SOURCE``: the summary table and the plot of a trtexec profile.

SOURCE is one of
* an ``--exportProfile`` JSON (its ``--exportLayerInfo`` JSON is found next to it:
  ``x.profile.json`` -> ``x.graph.json`` / ``x.layer.json`` / ``x.layers.json`` / ...);
* a saved trtexec stdout (``--dumpProfile`` table, performance summary);
* an engine (``.engine`` / ``.plan`` / ``.trt``): on the Jetson, trtexec profiles it first.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.profile.parse import (
    NotDetailedError,
    ProfileFormatError,
    read_layer_info,
    read_perf_summary,
    read_profile,
    read_profile_log,
)
from grader.profile.plot import plot
from grader.profile.table import report

ENGINE_SUFFIXES = (".engine", ".plan", ".trt")
LAYER_WORDS = ("graph", "layer", "layers", "layerinfo", "layerInfo", "layer_info")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``profile`` subcommand's arguments."""
    parser.add_argument("source", type=Path, help="--exportProfile JSON, saved trtexec stdout, or an engine (Jetson)")
    parser.add_argument("--layers", type=Path, help="--exportLayerInfo JSON (default: found next to SOURCE)")
    parser.add_argument("--log", type=Path, help="saved trtexec stdout, for its performance summary")
    parser.add_argument("--out", type=Path, help="PNG to write (default: <name of SOURCE>.png in the current folder)")
    parser.add_argument("--no-plot", action="store_true", help="print the table only")
    parser.add_argument("--top", type=int, default=10, help="slowest layers to list (default 10)")
    parser.add_argument(
        "--workdir", type=Path, help="engine only: where trtexec writes its exports (default: ./<engine>.profile)"
    )


def layer_file_for(profile_json: Path) -> Path | None:
    """The layer-information JSON exported beside a profile JSON, by the usual naming."""
    name = profile_json.name
    at = name.rfind("profile")
    if at < 0:
        return None
    for word in LAYER_WORDS:
        candidate = profile_json.with_name(name[:at] + word + name[at + len("profile") :])
        if candidate.is_file():
            return candidate
    return None


def _error(message: str) -> int:
    """Print ``message`` to stderr; the exit status of a failed command."""
    print(f"python -m grader profile: {message}", file=sys.stderr)
    return 2


def _profile_engine(args: argparse.Namespace) -> tuple[Path, Path, str]:
    """Run trtexec on the engine (Jetson); the profile, layer file and stdout it produced."""
    from grader.backends import trtexec

    workdir = args.workdir or Path.cwd() / (args.source.name + ".profile")
    print(f"profiling {args.source} with trtexec (results in {workdir}) ...", file=sys.stderr)
    run = trtexec.profile_engine(args.source, workdir)
    (workdir / f"{args.source.stem}.trtexec.log").write_text(run.stdout, encoding="utf-8")
    return run.profile_json, run.layer_json, run.stdout


def run(args: argparse.Namespace) -> int:
    """Print the summary of one profile and write its plot; 0 on success."""
    from grader.backends.trtexec import TrtexecFailed, TrtexecUnavailable

    source: Path = args.source
    if not source.exists():
        return _error(f"{source} does not exist")
    stdout = args.log.read_text(encoding="utf-8", errors="replace") if args.log else ""
    layer_path: Path | None = args.layers
    try:
        if source.suffix in ENGINE_SUFFIXES:
            profile_path, engine_layers, stdout = _profile_engine(args)
            layer_path = layer_path or engine_layers
        else:
            profile_path = source
        if profile_path.suffix == ".json":
            profile = read_profile(profile_path).layers
            layer_path = layer_path or layer_file_for(profile_path)
        else:
            stdout = profile_path.read_text(encoding="utf-8", errors="replace")
            tables = [t for t in read_profile_log(stdout) if t.rows]
            if not tables:
                return _error(f"{profile_path} holds no '=== Profile' table (run trtexec with --dumpProfile)")
            profile = tables[-1].rows
    except (TrtexecUnavailable, TrtexecFailed, ProfileFormatError, OSError) as error:
        return _error(str(error))
    layers = []
    if layer_path is not None:
        try:
            layers = read_layer_info(layer_path)
        except NotDetailedError as error:
            print(f"note: {error}\nContinuing without layer types and precisions.", file=sys.stderr)
        except (ProfileFormatError, OSError) as error:
            return _error(str(error))
    else:
        print("note: no layer-information JSON found (pass --layers): no types or precisions.", file=sys.stderr)
    perf = None
    if stdout:
        try:
            perf = read_perf_summary(stdout)
        except ProfileFormatError:
            perf = None
    print(report(profile, layers, top_k=args.top, perf=perf, title=str(source)))
    if not args.no_plot:
        # Default in the current folder: exports often sit in read-only or shared folders.
        out = args.out or Path.cwd() / _plot_name(source)
        try:
            plot(profile, layers, out, title=source.name)
        except OSError as error:
            return _error(f"cannot write {out}: {error.strerror or error}")
        print(f"\nplot written to {out}")
    return 0


def _plot_name(source: Path) -> str:
    """``m.profile.json`` -> ``m.profile.png``; ``m.engine`` -> ``m.engine.png``."""
    return (source.stem if source.suffix in (".json", ".log", ".txt") else source.name) + ".png"


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m grader.profile.cli``)."""
    parser = argparse.ArgumentParser(prog="python -m grader profile", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
