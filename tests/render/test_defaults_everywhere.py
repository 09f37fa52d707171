"""Every face takes its defaults from ONE function (volumeviz.transfer.defaults.defaults_for).

The CLI, ``volumeviz.screenshot``, ``Scene.add_3d``/``add_quad`` and the report all resolve a
state without a preset through it: replacing the function changes what every one of them draws,
and an MR series gets MR presets (never a CT one) everywhere. The window's side is in
tests/app/test_app_window.py.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from volumeviz.model import phantom
from volumeviz.model.volume import Volume
from volumeviz.render.scene import Scene
from volumeviz.render.screenshot import render_image
from volumeviz.render.state import ViewState
from volumeviz.transfer import defaults

sys.path.insert(0, str(Path(__file__).parents[1] / "report"))
from report_helpers import StandInRenderer

SMALL = (48, 36)


def _api(vol: Volume, _: Path) -> list[str]:
    _, info = render_image(vol, ViewState(size=SMALL, annotations=False))
    return [info.preset]


def _scene(vol: Volume, _: Path) -> list[str]:
    scene = Scene(vol, columns=2, cell_size=SMALL, annotations=False).add_3d().add_quad()
    return [c["preset"] for c in json.loads(scene.metadata()["volumeviz:scene"])]


def _report(vol: Volume, _: Path) -> list[str]:
    from volumeviz.report.build import ReportTemplate, build_report

    stand_in = StandInRenderer()
    build_report([vol], template=ReportTemplate(sections=("views", "mpr")), renderer=stand_in)
    return [kw["preset"] for _, _, kw in stand_in.calls]


def _cli(vol: Volume, tmp: Path) -> list[str]:
    from volumeviz.cli.main import main
    from volumeviz.io.synth import write_synthetic_series

    folder = tmp / "series"
    write_synthetic_series(vol, folder, modality=vol.modality, window=None)
    out = tmp / "out.png"
    code = 0
    try:
        main(["screenshot", str(folder), "--size", "48x36", "--no-annotations", "-o", str(out)])
    except SystemExit as exc:  # click may end with SystemExit(0)
        code = int(exc.code or 0)
    assert code == 0
    with Image.open(out) as im:
        return [im.info["volumeviz:preset"]]


FACES: dict[str, Callable[[Volume, Path], list[str]]] = {
    "api": _api,
    "scene": _scene,
    "report": _report,
    "cli": _cli,
}


@pytest.mark.parametrize("face", FACES)
def test_mr_gets_mr_presets_and_no_misfit_warning(face: str, tmp_path: Path) -> None:
    mr = phantom.asymmetric(24, modality="MR")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        presets = FACES[face](mr, tmp_path)
    assert presets, "nothing was rendered"
    assert set(presets) <= {"mr-default", "mr-mip"}, presets
    assert not [w for w in caught if "meant for CT" in str(w.message)]


@pytest.mark.parametrize("face", FACES)
def test_every_face_asks_the_one_function(
    face: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = defaults.defaults_for
    asked: list[str] = []

    def patched(vol: Volume) -> defaults.Defaults:
        asked.append(vol.modality)
        return dataclasses.replace(
            real(vol), preset="ct-muscle", report_presets=("ct-muscle", "ct-lung")
        )

    monkeypatch.setattr(defaults, "defaults_for", patched)
    presets = FACES[face](phantom.asymmetric(24), tmp_path)
    assert asked, f"{face} did not ask defaults_for"
    assert set(presets) <= {"ct-muscle", "ct-lung"}, presets
    assert "ct-muscle" in presets
