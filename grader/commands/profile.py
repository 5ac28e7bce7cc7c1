"""``python -m grader profile SOURCE``: the summary table and the plot of a trtexec profile.

SOURCE is one of (recognised by content, whatever its name: ``--exportProfile=x.profile`` is JSON)
* an ``--exportProfile`` JSON (its ``--exportLayerInfo`` JSON is found next to it:
  ``x.profile.json`` -> ``x.graph.json`` / ``x.layer.json`` / ``x.layers.json`` / ...);
* a saved trtexec stdout (``--dumpProfile`` table of any TensorRT 7-10 layout, performance summary);
* an engine (``.engine`` / ``.plan`` / ``.trt``): on the Jetson, trtexec profiles it first.
``--log`` gives the performance summary's log in every case (a stdout SOURCE is its own otherwise).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.practices.practice5.profile.parse import (
    NO_E2E_TIMING,
    LayerInfo,
    LayerTime,
    NotDetailedError,
    ProfileFormatError,
    display_name,
    read_layer_info,
    read_perf_summary,
    read_profile,
    read_profile_log,
    sniff,
)
from grader.practices.practice5.profile.plot import plot
from grader.practices.practice5.profile.table import report

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


def _read_source(args: argparse.Namespace) -> tuple[list[LayerTime], Path | None, str]:
    """The profile of SOURCE (recognised by content), its layer file if found, and its stdout text if it is one."""
    source: Path = args.source
    if source.suffix in ENGINE_SUFFIXES:
        profile_path, engine_layers, stdout = _profile_engine(args)
        return read_profile(profile_path).layers, args.layers or engine_layers, stdout
    kind = sniff(source)
    if kind == "profile":
        return read_profile(source).layers, args.layers or layer_file_for(source), ""
    if kind == "layer_info":
        raise ProfileFormatError(f"{source} is an --exportLayerInfo file: give the --exportProfile JSON as SOURCE and this one as --layers")
    if kind != "log":
        raise ProfileFormatError(
            f"{source} is neither a trtexec --exportProfile JSON nor a trtexec log (recognised by content); "
            "`python -m grader inspect` says what it is"
        )
    stdout = source.read_text(encoding="utf-8", errors="replace")
    tables = [t for t in read_profile_log(stdout) if t.rows]
    if not tables:
        raise ProfileFormatError(f"{source} is a trtexec log without a '=== Profile' table (run trtexec with --dumpProfile)")
    if tables[-1].cut_short:
        print(
            f"warning: the last '=== Profile' table of {source} stops after {len(tables[-1].rows)} rows without its "
            "Total row (the log was cut short): the table below has only those rows.",
            file=sys.stderr,
        )
    return tables[-1].rows, args.layers, stdout


def _read_layers(layer_path: Path | None, profile: list[LayerTime]) -> list[LayerInfo]:
    """The layers of the layer file (empty, with a note, when there is none or it is not detailed)."""
    if layer_path is None:
        print("note: no layer-information JSON found (pass --layers): no types or precisions.", file=sys.stderr)
        return []
    try:
        layers = read_layer_info(layer_path)
    except NotDetailedError as error:
        print(f"note: {error}\nContinuing without layer types and precisions.", file=sys.stderr)
        return []
    known = {layer.name for layer in layers}
    missing = [entry.name for entry in profile if entry.name not in known]
    if missing:
        print(
            f"warning: {len(missing)} of {len(profile)} profiled layers have no entry in {layer_path.name} "
            f"(first: {display_name(missing[0], 60)!r}); their type and precision show as Unknown. Were the "
            "profile and the layer information exported from the same engine?",
            file=sys.stderr,
        )
    return layers


def _summary(stdout: str, source: Path) -> dict | None:
    """The performance summary of the log, or None (with a note when trtexec said why it printed none)."""
    if not stdout:
        return None
    try:
        return read_perf_summary(stdout)
    except ProfileFormatError:
        if NO_E2E_TIMING in stdout:
            print(
                f"note: {source.name} has no performance summary: trtexec profiled without --separateProfileRun.",
                file=sys.stderr,
            )
        return None


def run(args: argparse.Namespace) -> int:
    """Print the summary of one profile and write its plot; 0 on success."""
    from grader.backends.trtexec import TrtexecFailed, TrtexecUnavailable

    source: Path = args.source
    if not source.exists():
        return _error(f"{source} does not exist")
    try:
        profile, layer_path, stdout = _read_source(args)
        # --log is the summary's source whenever it is given, SOURCE's own stdout otherwise.
        log_path = args.log or source
        stdout = args.log.read_text(encoding="utf-8", errors="replace") if args.log else stdout
        layers = _read_layers(layer_path, profile)
    except (TrtexecUnavailable, TrtexecFailed, ProfileFormatError, OSError) as error:
        return _error(str(error))
    perf = _summary(stdout, log_path)
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
    """Stand-alone entry point (``python -m grader.commands.profile``)."""
    parser = argparse.ArgumentParser(prog="python -m grader profile", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
