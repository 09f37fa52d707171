"""``volumeviz info DICOMDIR``: the patient → study → series → instance tree (rich or JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from volumeviz.io.dicomdir import read_fileset
from volumeviz.model.dates import format_date as _date
from volumeviz.model.fileset import FileSetInstance, FileSetTree

#: instances listed one per line in the tree; longer series show the first and last two
_MAX_LISTED = 8


def _instance_label(inst: FileSetInstance) -> str:
    from rich.markup import escape

    number = f"#{inst.instance_number}" if inst.instance_number is not None else "#?"
    kind = "" if inst.record_type == "IMAGE" else f" [yellow]{escape(inst.record_type)}[/]"
    return f"{number} {escape(inst.path)}{kind}"


def render_tree(tree: FileSetTree) -> object:
    """Build a ``rich.tree.Tree`` for a file-set (instances summarised per series)."""
    from rich.markup import escape
    from rich.tree import Tree

    top = Tree(
        f"[bold]{escape(tree.dicomdir)}[/]"
        + (f"  file-set {escape(tree.fileset_id)}" if tree.fileset_id else "")
    )
    for patient in tree.patients:
        pnode = top.add(
            f"[bold cyan]{escape(patient.patient_name or '(no name)')}[/]"
            f"  ID {escape(patient.patient_id or '?')}"
        )
        for study in patient.studies:
            snode = pnode.add(
                f"[green]{escape(_date(study.study_date) or '(no date)')}[/]"
                f"  {escape(study.description or '(no description)')}"
                f"  [dim]{escape(study.study_uid)}[/]"
            )
            for series in study.series:
                bad = [i for i in series.instances if i.status != "ok"]
                shown = series.series_number if series.series_number is not None else "?"
                text = (
                    f"[bold]{escape(series.modality or '?')} series {shown}[/]"
                    f"  {escape(series.description)}  {len(series.instances)} instance(s)"
                    f"  [dim]--series {escape(series.series_uid)}[/]"
                )
                if bad:
                    text += f"  [red]{len(bad)} missing/refused[/]"
                senode = snode.add(text)
                good = [i for i in series.instances if i.status == "ok"]
                shown_good = good if len(good) <= _MAX_LISTED else good[:2] + good[-2:]
                for k, inst in enumerate(shown_good):
                    if len(good) > _MAX_LISTED and k == 2:
                        senode.add(f"[dim]… {len(good) - 4} more …[/]")
                    senode.add(_instance_label(inst))
                for inst in bad:
                    senode.add(f"[red]{escape(inst.file_id)}: {escape(inst.reason)}[/]")
    if tree.problems:
        pnode = top.add(f"[yellow]{len(tree.problems)} problem(s)[/]")
        for where, reason in tree.problems:
            pnode.add(f"[yellow]{escape(where)}: {escape(reason)}[/]")
    return top


def dicomdir_info(path: Path, as_json: bool) -> None:
    """Print the tree of the DICOMDIR at ``path``; each series shows its ``--series`` UID.

    Parameters
    ----------
    path
        The DICOMDIR file.
    as_json
        Print :meth:`FileSetTree.to_dict` as JSON instead of a tree.
    """
    tree = read_fileset(path)
    if as_json:
        click.echo(json.dumps(tree.to_dict(), indent=2, ensure_ascii=False))
        return
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=max(console.width, 200))
    console.print(render_tree(tree))
