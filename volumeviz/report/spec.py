r"""The batch spec: a TOML or YAML file listing inputs and the renders or reports to make.

A spec (TOML shown; YAML has the same keys)::

    output = "renders"          # folder for the outputs, relative to the spec file
    workers = 2                 # local processes (default: the CPU count)
    overwrite = false           # re-make outputs that already exist

    [[input]]
    path = "studies/*/CT"       # a folder, a glob or a DICOMDIR, relative to the spec file
    # series = "each"           # one job per series found under path; or a number / UID
    #                           # (default: the largest series)
    # index = "time=3"          # a series with extra dimensions: which volume (K from 1,
    #                           # as --index; or a table: index = {time = 3, echo = 2})

    [[render]]
    kind = "screenshot"         # screenshot | report
    preset = "bone"
    view = "anterior"
    size = [800, 600]
    output = "{input}-{preset}-{view}.png"

    [[render]]
    kind = "screenshot"         # an MPR view: axial | coronal | sagittal | quad
    mpr = "coronal"
    slab_mm = 20                # optional thick slab (slab_mode = "mip" | "minip" | "mean")
    window = "400/40"           # or a name such as "bone"; slice = 40 | "12.5mm" | [x, y, z]

    [[render]]
    kind = "report"
    output = "{input}.pdf"      # .pdf or .html
    anonymize = true
    measure = ["distance:-60,0,40,60,0,40"]   # LPS mm, as screenshot --measure (also for
                                # an MPR screenshot): values and a picture of each

Placeholders in ``output``: ``{input}`` (the input's folder or file name; made unique when two
inputs share a name), ``{kind}``, ``{preset}``, ``{view}``, ``{mpr}`` (``3d`` for a 3D view),
``{index}`` (the input's number).

Anonymised runs. When any render says ``anonymize = true`` the whole run is anonymised in what
it names and prints, since folder and file names often carry the patient's name and a PACS
address carries the study's UIDs: ``{input}`` is ``input-N`` (N = ``{index}``) in every output
name, the summary names each input ``input-N``, and every message (errors, warnings, logging,
from every worker) passes through the one de-identification filter
(:class:`volumeviz.io.deid.TextScrubber`: input paths as ``<input>/file-<hash>``, UIDs as
``uid-<hash>``, identifying element values withheld, the loaded patient's identity and every
date removed).

Every problem is reported as ``FILE:LINE: what is wrong`` (:class:`SpecError`), found before
anything is rendered.

Examples
--------
>>> import pathlib, tempfile
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> (d / "ct").mkdir()
>>> _ = (d / "spec.toml").write_text('''
... [[input]]
... path = "ct"
... [[render]]
... kind = "screenshot"
... preset = "bone"
... size = [80, 60]
... ''')
>>> spec = load_spec(d / "spec.toml")
>>> [(j.name, [pathlib.Path(o).name for o in j.outputs]) for j in plan_jobs(spec)]
[('ct', ['ct-bone-anterior.png'])]
>>> _ = (d / "bad.toml").write_text('[[input]]\npath = "ct"\n[[render]]\nkind = "movie"\n')
>>> load_spec(d / "bad.toml")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
volumeviz.report.spec.SpecError: ...bad.toml:4: render[0].kind: 'movie' is not a kind; ...
"""

from __future__ import annotations

import difflib
import glob
import os
import re
import string
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from volumeviz.errors import UsageError, VolumeVizError

__all__ = [
    "VIEWS",
    "BatchSpec",
    "InputSpec",
    "Job",
    "RenderSpec",
    "SpecError",
    "load_spec",
    "parse_spec",
    "plan_jobs",
]

#: anatomical camera views a screenshot can take
VIEWS = ("anterior", "posterior", "left", "right", "superior", "inferior")
KINDS = ("screenshot", "report")
PLACEHOLDERS = ("input", "kind", "preset", "view", "mpr", "index")
MPR_MODES = ("axial", "coronal", "sagittal", "quad")
SLAB_MODES = ("mip", "minip", "mean")

_TOP_KEYS = ("output", "workers", "overwrite", "summary", "input", "render")
_INPUT_KEYS = ("path", "series", "index")
_RENDER_KEYS = {
    "screenshot": (
        "kind",
        "preset",
        "view",
        "size",
        "output",
        "mpr",
        "slice",
        "window",
        "slab_mm",
        "slab_mode",
        "annotations",
        "anonymize",
        "measure",
    ),
    "report": (
        "kind",
        "output",
        "format",
        "template",
        "anonymize",
        "presets",
        "views",
        "dpi",
        "title",
        "measure",
    ),
}
_DEFAULT_OUTPUT = {
    "screenshot": "{input}-{preset}-{view}.png",
    "report": "{input}.pdf",
}


class SpecError(UsageError):
    """A batch spec that cannot be read or that says something impossible (names the line)."""


Path_ = tuple[Any, ...]


@dataclass(frozen=True)
class InputSpec:
    """One ``[[input]]`` entry: a path pattern relative to the spec, and an optional series.

    ``index`` picks the volume of a series with extra dimensions, 0-based ``(("time", 2),)``
    (the spec counts from 1, as ``--index``).
    """

    path: str
    series: str | None = None
    line: int | None = None
    index: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class RenderSpec:
    """One ``[[render]]`` entry: what to make for each input, and the output name template."""

    kind: str
    output: str
    options: tuple[tuple[str, Any], ...] = ()
    line: int | None = None

    def option(self, name: str, default: Any = None) -> Any:
        """Return option ``name`` (``default`` if absent)."""
        return dict(self.options).get(name, default)


@dataclass(frozen=True)
class BatchSpec:
    """A parsed, checked spec. Paths are absolute (resolved against the spec's folder)."""

    source: str
    inputs: tuple[InputSpec, ...]
    renders: tuple[RenderSpec, ...]
    output_dir: Path
    base_dir: Path
    workers: int | None = None
    overwrite: bool = False
    summary: Path | None = None
    _lines: dict[Path_, int] = field(default_factory=dict, repr=False, compare=False)

    def error(self, where: Path_, problem: str) -> SpecError:
        """Make a :class:`SpecError` for the entry at ``where``, with its line number."""
        return _error(self.source, self._lines, where, problem)

    @property
    def anonymize(self) -> bool:
        """True when any render anonymises.

        Then the whole run names and prints nothing identifying (see the module docstring).
        """
        return any(bool(r.option("anonymize", False)) for r in self.renders)

    def input_paths(self) -> list[Path | str]:
        """Every path or address the inputs name (globs expanded; missing ones as written).

        For the console filter of an anonymised run, before the jobs are planned (planning
        reads the inputs and its errors name them).
        """
        found: list[Path | str] = []
        for item in self.inputs:
            if _is_address(item.path):
                found.append(item.path)
                continue
            pattern = item.path if os.path.isabs(item.path) else str(self.base_dir / item.path)
            if glob.has_magic(pattern):
                found.extend(Path(p) for p in glob.glob(pattern))
            else:
                found.append(Path(pattern))
        return found


@dataclass(frozen=True)
class Job:
    """One unit of batch work: load one input once and make every output for it.

    ``outputs[n]`` is what ``renders[n]`` writes. Plain data, so it pickles to any worker.
    """

    index: int
    name: str
    path: str
    series: str | None
    renders: tuple[RenderSpec, ...]
    outputs: tuple[str, ...]
    overwrite: bool = False
    #: which volume of a series with extra dimensions, 0-based ``(("time", 2),)``
    dims_index: tuple[tuple[str, int], ...] = ()
    #: the spec anonymises: ``name`` is ``input-N`` and nothing reported may identify
    anonymize: bool = False

    @property
    def label(self) -> str:
        """How the summary and the console name this job's input."""
        if self.anonymize:
            return self.name
        return self.path if self.series is None else f"{self.path}#{self.series}"


# -- reading ---------------------------------------------------------------------------------


def load_spec(path: str | os.PathLike[str]) -> BatchSpec:
    """Read and check a ``.toml``, ``.yaml`` or ``.yml`` spec file.

    Raises
    ------
    SpecError
        The file is missing, unreadable, not valid TOML/YAML, or says something impossible;
        the message starts with ``FILE:LINE:``.
    """
    p = Path(path)
    if not p.is_file():
        raise SpecError(f"{p}: no such spec file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{p}: cannot read the spec: {exc}") from exc
    suffix = p.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise SpecError(f"{p}: spec must be .toml, .yaml or .yml, not {suffix or 'no suffix'!r}")
    fmt = "toml" if suffix == ".toml" else "yaml"
    return parse_spec(text, fmt=fmt, source=str(p), base_dir=p.resolve().parent)


def parse_spec(
    text: str,
    *,
    fmt: str,
    source: str = "<spec>",
    base_dir: str | os.PathLike[str] = ".",
) -> BatchSpec:
    """Parse and check spec text in ``fmt`` (``"toml"`` or ``"yaml"``).

    Relative paths in the spec are resolved against ``base_dir``.
    """
    if fmt == "toml":
        data, lines = _read_toml(text, source)
    elif fmt == "yaml":
        data, lines = _read_yaml(text, source)
    else:
        raise SpecError(f"{source}: unknown spec format {fmt!r}; use toml or yaml")
    return _check(data, lines, source, Path(base_dir))


def _read_toml(text: str, source: str) -> tuple[Any, dict[Path_, int]]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        if m:
            problem = msg[: m.start()].strip()
            raise SpecError(f"{source}:{m.group(1)}: {problem} (column {m.group(2)})") from exc
        raise SpecError(f"{source}: {msg}") from exc
    return data, _toml_lines(text)


_TOML_ARRAY_TABLE = re.compile(r"^\s*\[\[\s*([^\]]+?)\s*\]\]")
_TOML_TABLE = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
_TOML_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


def _toml_key_parts(key: str) -> list[str]:
    return [
        p.strip().strip("\"'") for p in re.split(r"\.(?=(?:[^\"']|\"[^\"]*\"|'[^']*')*$)", key)
    ]


def _toml_lines(text: str) -> dict[Path_, int]:
    """Map each table and key path to its line (1-based), by a light scan of the source."""
    lines: dict[Path_, int] = {}
    counters: dict[Path_, int] = {}
    current: Path_ = ()
    for n, line in enumerate(text.splitlines(), start=1):
        m = _TOML_ARRAY_TABLE.match(line)
        if m:
            parts = tuple(_toml_key_parts(m.group(1)))
            idx = counters.get(parts, 0)
            counters[parts] = idx + 1
            current = (*parts, idx)
            lines.setdefault(parts, n)
            lines.setdefault(current, n)
            continue
        m = _TOML_TABLE.match(line)
        if m:
            current = tuple(_toml_key_parts(m.group(1)))
            lines.setdefault(current, n)
            continue
        m = _TOML_KEY.match(line)
        if m:
            lines.setdefault((*current, *_toml_key_parts(m.group(1))), n)
    return lines


def _read_yaml(text: str, source: str) -> tuple[Any, dict[Path_, int]]:
    import yaml

    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        if mark is not None:
            raise SpecError(
                f"{source}:{mark.line + 1}: {problem} (column {mark.column + 1})"
            ) from exc
        raise SpecError(f"{source}: {problem}") from exc
    except yaml.YAMLError as exc:
        raise SpecError(f"{source}: not valid YAML: {exc}") from exc
    lines: dict[Path_, int] = {}
    if node is not None:
        _yaml_lines(node, (), lines)
    return data, lines


def _yaml_lines(node: Any, path: Path_, out: dict[Path_, int]) -> None:
    import yaml

    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*path, str(key_node.value))
            out.setdefault(key, key_node.start_mark.line + 1)
            _yaml_lines(value_node, key, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _yaml_lines(item, (*path, i), out)


# -- checking --------------------------------------------------------------------------------


def _where(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(lines: Mapping[Path_, int], path: Path_) -> int | None:
    for n in range(len(path), -1, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return None


def _error(source: str, lines: Mapping[Path_, int], path: Path_, problem: str) -> SpecError:
    line = _line_of(lines, path)
    loc = f"{source}:{line}" if line is not None else source
    what = _where(path)
    return SpecError(f"{loc}: {what}: {problem}" if what else f"{loc}: {problem}")


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _check(data: Any, lines: dict[Path_, int], source: str, base: Path) -> BatchSpec:
    def err(where: Path_, problem: str) -> SpecError:
        return _error(source, lines, where, problem)

    if not isinstance(data, dict):
        raise err((), "the spec must be a table/mapping with 'input' and 'render' entries")

    def unknown_keys(table: Mapping[str, Any], allowed: tuple[str, ...], where: Path_) -> None:
        for key in table:
            if key not in allowed:
                raise err(
                    (*where, key),
                    f"unknown key{_did_you_mean(str(key), allowed)} "
                    f"(allowed: {', '.join(allowed)})",
                )

    unknown_keys(data, _TOP_KEYS, ())
    for required in ("input", "render"):
        if required not in data:
            raise err((), f"no '{required}' entries; the spec needs at least one [[{required}]]")

    raw_inputs = data["input"]
    if not isinstance(raw_inputs, list) or not raw_inputs:
        raise err(("input",), "must be a non-empty list ([[input]] tables or path strings)")
    inputs = []
    for i, item in enumerate(raw_inputs):
        where: Path_ = ("input", i)
        if isinstance(item, str):
            item = {"path": item}
        if not isinstance(item, dict):
            raise err(where, f"must be a path string or a table with 'path', got {item!r}")
        unknown_keys(item, _INPUT_KEYS, where)
        path = item.get("path")
        if not isinstance(path, str) or not path.strip():
            raise err((*where, "path") if "path" in item else where, "needs a 'path' string")
        series = item.get("series")
        if isinstance(series, int) and not isinstance(series, bool):
            series = str(series)
        if series is not None and (not isinstance(series, str) or not series.strip()):
            raise err(
                (*where, "series"),
                f"must be 'each', a series number or a SeriesInstanceUID, got {series!r}",
            )
        inputs.append(
            InputSpec(path, series, _line_of(lines, where), _spec_index(item, where, err))
        )

    raw_renders = data["render"]
    if not isinstance(raw_renders, list) or not raw_renders:
        raise err(("render",), "must be a non-empty list of [[render]] tables")
    renders = [_check_render(r, ("render", i), err) for i, r in enumerate(raw_renders)]
    for i, r in enumerate(renders):
        opts = dict(r.options)
        tpl = opts.get("template")
        if tpl is not None and tpl not in ("standard", "brief"):
            from volumeviz.report.build import load_template

            path = Path(tpl) if Path(tpl).is_absolute() else base / tpl
            if not path.is_file():
                raise err(("render", i, "template"), f"{tpl!r}: no such template file")
            load_template(path)  # its own mistakes name its own lines
            opts["template"] = str(path.resolve())
        renders[i] = RenderSpec(
            r.kind, r.output, tuple(sorted(opts.items())), _line_of(lines, ("render", i))
        )

    out = data.get("output", "batch-output")
    if not isinstance(out, str) or not out.strip():
        raise err(("output",), f"must be a folder path string, got {out!r}")
    workers = data.get("workers")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise err(("workers",), f"must be a whole number >= 1, got {workers!r}")
    overwrite = data.get("overwrite", False)
    if not isinstance(overwrite, bool):
        raise err(("overwrite",), f"must be true or false, got {overwrite!r}")
    summary = data.get("summary")
    if summary is not None and (
        not isinstance(summary, str) or Path(summary).suffix.lower() not in (".csv", ".json")
    ):
        raise err(("summary",), f"must be a .csv or .json file name, got {summary!r}")
    output_dir = (base / out).resolve()
    spec = BatchSpec(
        source=source,
        inputs=tuple(inputs),
        renders=tuple(renders),
        output_dir=output_dir,
        base_dir=base,
        workers=workers,
        overwrite=overwrite,
        summary=(output_dir / summary) if summary else None,
        _lines=lines,
    )
    return spec


def _positive_int(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _check_render(raw: Any, where: Path_, err: Any) -> RenderSpec:
    if not isinstance(raw, dict):
        raise err(where, f"must be a table with a 'kind', got {raw!r}")
    kind = raw.get("kind")
    if kind is None:
        raise err(where, f"needs a 'kind' (one of {', '.join(KINDS)})")
    if kind not in KINDS:
        raise err(
            (*where, "kind"),
            f"{kind!r} is not a kind{_did_you_mean(str(kind), KINDS)}; use one of "
            f"{', '.join(KINDS)}",
        )
    allowed = _RENDER_KEYS[kind]
    for key in raw:
        if key not in allowed:
            raise err(
                (*where, key),
                f"unknown key for kind {kind!r}{_did_you_mean(str(key), allowed)} "
                f"(allowed: {', '.join(allowed)})",
            )
    opts: dict[str, Any] = {}

    def preset_ok(name: Any, at: Path_) -> str:
        from volumeviz.errors import PresetError
        from volumeviz.transfer import load_preset

        if not isinstance(name, str):
            raise err(at, f"must be a preset name, got {name!r}")
        try:
            load_preset(name)
        except PresetError as exc:
            raise err(at, str(exc)) from None
        return name

    def view_ok(name: Any, at: Path_) -> str:
        if name not in VIEWS:
            raise err(
                at,
                f"{name!r} is not a view{_did_you_mean(str(name), VIEWS)}; use one of "
                f"{', '.join(VIEWS)}",
            )
        return str(name)

    if kind == "screenshot":
        if "preset" in raw:  # else by modality (volumeviz.transfer.defaults)
            opts["preset"] = preset_ok(raw["preset"], (*where, "preset"))
        opts["view"] = view_ok(raw.get("view", "anterior"), (*where, "view"))
        size = raw.get("size", [800, 600])
        if not (
            isinstance(size, list)
            and len(size) == 2
            and all(_positive_int(v, 16, 8192) for v in size)
        ):
            raise err(
                (*where, "size"), f"must be [width, height] in 16..8192 pixels, got {size!r}"
            )
        opts["size"] = (int(size[0]), int(size[1]))
        if "mpr" in raw:
            mpr = raw["mpr"]
            if mpr not in MPR_MODES:
                raise err(
                    (*where, "mpr"),
                    f"{mpr!r} is not an MPR mode{_did_you_mean(str(mpr), MPR_MODES)}; use one of "
                    f"{', '.join(MPR_MODES)}",
                )
            opts["mpr"] = mpr
        if "slice" in raw:
            value = raw["slice"]
            ok = isinstance(value, (int, float, str)) and not isinstance(value, bool)
            ok = ok or (
                isinstance(value, list)
                and len(value) == 3
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            )
            if not ok:
                raise err(
                    (*where, "slice"),
                    f"must be an index, '12.5mm', 'center' or [x, y, z] LPS mm, got {value!r}",
                )
            opts["slice"] = tuple(float(v) for v in value) if isinstance(value, list) else value
        if "window" in raw:
            if not isinstance(raw["window"], str):
                raise err(
                    (*where, "window"), f"must be like '400/40' or a name, got {raw['window']!r}"
                )
            opts["window"] = raw["window"]
        if "slab_mm" in raw:
            v = raw["slab_mm"]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1000:
                raise err((*where, "slab_mm"), f"must be a thickness in 0..1000 mm, got {v!r}")
            opts["slab_mm"] = float(v)
        if "slab_mode" in raw:
            if raw["slab_mode"] not in SLAB_MODES:
                raise err((*where, "slab_mode"), f"use one of {', '.join(SLAB_MODES)}")
            opts["slab_mode"] = raw["slab_mode"]
        for flag in ("annotations", "anonymize"):
            if flag in raw:
                if not isinstance(raw[flag], bool):
                    raise err((*where, flag), f"must be true or false, got {raw[flag]!r}")
                opts[flag] = raw[flag]
        if opts.get("mpr") is None and any(k in raw for k in ("slice", "window", "slab_mm")):
            key = next(k for k in ("slice", "window", "slab_mm") if k in raw)
            raise err((*where, key), "applies to MPR views only; add mpr = 'axial' (or another)")
    else:
        for key in ("presets", "views"):
            if key in raw:
                values = raw[key]
                if not isinstance(values, list) or not values:
                    raise err((*where, key), f"must be a non-empty list, got {values!r}")
                check = preset_ok if key == "presets" else view_ok
                opts[key] = tuple(check(v, (*where, key, n)) for n, v in enumerate(values))
        if "anonymize" in raw:
            if not isinstance(raw["anonymize"], bool):
                raise err(
                    (*where, "anonymize"), f"must be true or false, got {raw['anonymize']!r}"
                )
            opts["anonymize"] = raw["anonymize"]
        if "dpi" in raw:
            if not _positive_int(raw["dpi"], 36, 1200):
                raise err(
                    (*where, "dpi"), f"must be a whole number in 36..1200, got {raw['dpi']!r}"
                )
            opts["dpi"] = raw["dpi"]
        if "title" in raw:
            if not isinstance(raw["title"], str):
                raise err((*where, "title"), f"must be a string, got {raw['title']!r}")
            opts["title"] = raw["title"]
        if "template" in raw:
            tpl = raw["template"]
            if not isinstance(tpl, str) or not (
                tpl in ("standard", "brief")
                or Path(tpl).suffix.lower() in (".toml", ".yaml", ".yml")
            ):
                raise err(
                    (*where, "template"),
                    f"must be 'standard', 'brief' or a .toml/.yaml file, got {tpl!r}",
                )
            opts["template"] = tpl
        if "format" in raw and raw["format"] not in ("pdf", "html"):
            raise err((*where, "format"), f"must be 'pdf' or 'html', got {raw['format']!r}")

    if "measure" in raw:
        opts["measure"] = _measure_option(raw["measure"], (*where, "measure"), err)
        if kind == "screenshot" and opts.get("mpr") is None:
            raise err((*where, "measure"), "is drawn on MPR views only; add mpr = 'axial' (or "
                      "another)")  # fmt: skip
    output = raw.get("output")
    if output is None:
        output = _DEFAULT_OUTPUT[kind]
        if kind == "screenshot" and "mpr" in opts:
            output = "{input}-{mpr}.png"
        if kind == "report" and raw.get("format") == "html":
            output = "{input}.html"
    if not isinstance(output, str) or not output.strip():
        raise err((*where, "output"), f"must be a file name template, got {output!r}")
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(output) if f is not None]
    except ValueError as exc:
        raise err((*where, "output"), f"bad template {output!r}: {exc}") from None
    for f in fields:
        if f not in PLACEHOLDERS or (kind == "report" and f in ("preset", "view", "mpr")):
            usable = [
                p
                for p in PLACEHOLDERS
                if kind == "screenshot" or p not in ("preset", "view", "mpr")
            ]
            raise err(
                (*where, "output"),
                f"unknown placeholder {{{f}}} in {output!r}; use {', '.join(usable)}",
            )
    suffix = Path(output).suffix.lower()
    if kind == "screenshot" and suffix != ".png":
        raise err((*where, "output"), f"a screenshot is written as .png, not {output!r}")
    if kind == "report":
        fmt = raw.get("format") or suffix.lstrip(".")
        if fmt not in ("pdf", "html") or suffix not in (".pdf", ".html"):
            raise err((*where, "output"), f"a report is written as .pdf or .html, not {output!r}")
        if suffix != f".{fmt}":
            raise err((*where, "format"), f"format {fmt!r} does not match output {output!r}")
        opts["format"] = fmt
    return RenderSpec(kind=kind, output=output, options=tuple(sorted(opts.items())))


def _measure_option(value: Any, where: Path_, err: Any) -> tuple[str, ...]:
    """``measure = ["distance:x,y,z,x,y,z", ...]``: each as ``screenshot --measure`` reads it."""
    from volumeviz.errors import UsageError
    from volumeviz.ops.measure import Markup

    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise err(where, f"must be a list of 'KIND:x,y,z,...' (LPS mm), got {value!r}")
    out = []
    for n, text in enumerate(value):
        if not isinstance(text, str):
            raise err((*where, n), f"must be 'KIND:x,y,z,...' (LPS mm), got {text!r}")
        try:
            out.append(Markup.parse(text).spec())
        except UsageError as exc:
            raise err((*where, n), str(exc)) from None
    return tuple(out)


def _spec_index(item: dict[str, Any], where: Path_, err: Any) -> tuple[tuple[str, int], ...]:
    """An input's ``index``: ``"time=3,echo=2"`` or ``{time = 3, echo = 2}`` (K from 1)."""
    from volumeviz.model.dimensions import parse_index

    raw = item.get("index")
    if raw is None:
        return ()
    if isinstance(raw, dict):
        raw = [f"{k}={v}" for k, v in raw.items()]
    if not isinstance(raw, (str, list)) or not all(isinstance(x, str) for x in raw):
        raise err((*where, "index"), f"must be 'NAME=K' or a table {{NAME = K}}, got {raw!r}")
    try:
        return tuple(parse_index(raw).items())
    except UsageError as exc:
        raise err((*where, "index"), str(exc)) from None


# -- planning --------------------------------------------------------------------------------


def _is_address(text: str) -> bool:
    from volumeviz.io.pacs.address import is_address

    return is_address(text)


def _expand(spec: BatchSpec, n: int, item: InputSpec) -> list[Path | str]:
    from volumeviz.io.pacs.address import is_address, parse_address

    if is_address(item.path):  # a PACS study or series: no glob, checked when loaded
        try:
            return [str(parse_address(item.path))]
        except VolumeVizError as exc:
            raise spec.error(("input", n, "path"), str(exc)) from None
    pattern = item.path if os.path.isabs(item.path) else str(spec.base_dir / item.path)
    if glob.has_magic(pattern):
        found: list[Path | str] = sorted(Path(p) for p in glob.glob(pattern))
        if not found:
            raise spec.error(("input", n, "path"), f"{item.path!r} matches nothing")
        return found
    p = Path(pattern)
    if not p.exists():
        raise spec.error(("input", n, "path"), f"{item.path!r}: no such file or folder")
    return [p]


def _units(spec: BatchSpec, n: int, item: InputSpec) -> list[tuple[Path | str, str | None, str]]:
    """``(path, series, name suffix)`` of each job an input entry makes.

    With ``series = "each"`` every series found under the path (headers only) is its own job,
    named ``<input>-s<series number>``; an ultrasound file is a job of its own.
    """
    paths = _expand(spec, n, item)
    if item.series != "each":
        return [(p, item.series, "") for p in paths]
    from volumeviz.io.discover import scan
    from volumeviz.io.pacs import scan_metadata

    units: list[tuple[Path | str, str | None, str]] = []
    for p in paths:
        try:
            result = scan_metadata(p) if isinstance(p, str) else scan(p)  # PACS: headers only
        except VolumeVizError as exc:
            raise spec.error(("input", n, "path"), f"{p}: {exc}") from None
        for k, info in enumerate(result.series, start=1):
            tag = f"-s{info.number if info.number is not None else k}"
            if info.modality == "US" and info.slices and isinstance(p, Path):
                units.append((Path(info.slices[0].path), None, ""))
            else:
                units.append((p, info.key, tag))
    return units


def _name_of(path: Path | str) -> str:
    if isinstance(path, str):  # a PACS address: its series (or study) UID
        return re.sub(r"[^\w.+-]+", "_", path.rstrip("/").rsplit("/", 1)[-1])
    name = path.name
    if name.upper() == "DICOMDIR" or not name:
        name = path.parent.name or "input"
    elif path.is_file() and path.suffix:
        name = path.stem
    return re.sub(r"[^\w.+-]+", "_", name)


def plan_jobs(spec: BatchSpec) -> list[Job]:
    """Expand the inputs (globs) and name every output; one :class:`Job` per input.

    Two inputs with the same folder name get ``-2``, ``-3`` ... appended to ``{input}``.
    Two renders that would write the same file are a :class:`SpecError`. When the spec
    anonymises (:attr:`BatchSpec.anonymize`), ``{input}`` is ``input-N``.
    """
    jobs: list[Job] = []
    seen_names: dict[str, int] = {}
    seen_outputs: dict[str, tuple[int, int]] = {}
    index = 0
    for n, item in enumerate(spec.inputs):
        for path, series, suffix in _units(spec, n, item):
            index += 1
            base_name = f"input-{index}" if spec.anonymize else _name_of(path) + suffix
            count = seen_names.get(base_name, 0) + 1
            seen_names[base_name] = count
            name = base_name if count == 1 else f"{base_name}-{count}"
            outputs = []
            for r_i, render in enumerate(spec.renders):
                values = {
                    "input": name,
                    "kind": render.kind,
                    # no preset named: chosen by modality once loaded; the name says so
                    "preset": render.option(
                        "preset", "auto" if render.kind == "screenshot" else ""
                    ),
                    "view": render.option("view", ""),
                    "mpr": render.option("mpr", "3d"),
                    "index": index,
                }
                out = str((spec.output_dir / render.output.format(**values)).resolve())
                if out in seen_outputs:
                    other = seen_outputs[out]
                    raise spec.error(
                        ("render", r_i, "output"),
                        f"{path} and input #{other[0]} (render[{other[1]}]) would both write "
                        f"{out}; add {{input}} or {{index}} to the output name",
                    )
                seen_outputs[out] = (index, r_i)
                outputs.append(out)
            jobs.append(
                Job(
                    index=index,
                    name=name,
                    path=str(path),
                    series=series,
                    renders=spec.renders,
                    outputs=tuple(outputs),
                    overwrite=spec.overwrite,
                    dims_index=item.index,
                    anonymize=spec.anonymize,
                )
            )
    return jobs
