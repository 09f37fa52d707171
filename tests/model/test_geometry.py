"""The geometry kinds and the one rule that decides what a picture may show."""

from __future__ import annotations

import numpy as np
import pytest

from volumeviz.model import phantom
from volumeviz.model.geometry import (
    Geometry,
    GeometryKind,
    annotation_rule,
    opposite_patient_orientation,
)
from volumeviz.model.volume import Volume


def test_default_volume_has_patient_geometry_and_keeps_it_through_replace() -> None:
    vol = phantom.asymmetric(8)
    assert vol.geometry.kind is GeometryKind.PATIENT
    g = Geometry.unknown("test")
    assert vol.replace(geometry=g).replace(array=vol.array).geometry is g


def test_patient_rule_allows_everything() -> None:
    rule = annotation_rule(Geometry.patient())
    assert (rule.patient_letters, rule.scale_bar, rule.position_mm, rule.plane_names) == (
        True,
        True,
        True,
        True,
    )
    assert rule.note == ""


def test_patient_without_pixel_spacing_keeps_letters_but_no_scale() -> None:
    g = Geometry.patient("")
    assert g.assumed
    assert not g.spacing_known
    rule = annotation_rule(g)
    assert rule.patient_letters
    assert not rule.scale_bar
    assert not rule.position_mm
    assert "Pixel Spacing" in rule.note


def test_projection_rule_has_no_patient_letters_no_position_but_a_scale() -> None:
    g = Geometry.projection((0.5, 0.5), "(0028,0030) Pixel Spacing", ("P", "FL"))
    rule = annotation_rule(g)
    assert not rule.patient_letters
    assert not rule.position_mm
    assert not rule.plane_names
    assert rule.scale_bar
    assert rule.note == ""
    assert rule.label == "projection"
    assert not g.assumed


def test_projection_without_spacing_is_assumed_and_has_no_scale() -> None:
    g = Geometry.projection(None, "", None)
    assert g.assumed
    rule = annotation_rule(g)
    assert not rule.scale_bar
    assert rule.note


def test_unknown_rule_shows_nothing_geometric_and_a_note() -> None:
    g = Geometry.unknown("no (0020,0032)")
    assert g.kind is GeometryKind.UNKNOWN
    assert g.assumed
    assert not g.spacing_known
    rule = annotation_rule(g)
    assert not (rule.patient_letters)
    assert not (rule.scale_bar)
    assert not (rule.position_mm)
    assert not (rule.plane_names)
    assert "geometry unknown" in rule.note


@pytest.mark.parametrize(
    ("right", "down", "expected"),
    [
        ((1, 0, 0), (0, 1, 0), {"right": "P", "left": "A", "bottom": "FL", "top": "HR"}),
        ((-1, 0, 0), (0, 1, 0), {"right": "A", "left": "P", "bottom": "FL", "top": "HR"}),
        ((1, 0, 0), (0, -1, 0), {"right": "P", "left": "A", "bottom": "HR", "top": "FL"}),
        # transposed: right runs down the stored rows
        ((0, 1, 0), (1, 0, 0), {"right": "FL", "left": "HR", "bottom": "P", "top": "A"}),
        # not the image plane: no letters at all
        ((1, 0, 0), (0, 0, 1), {}),
        ((0.7071, 0.7071, 0), (-0.7071, 0.7071, 0), {}),
    ],
)
def test_projection_letters_follow_the_displayed_axes(right, down, expected) -> None:
    rule = annotation_rule(Geometry.projection((1.0, 1.0), "x", ("P", "FL")))
    assert rule.projection_letters(right, down) == expected


def test_projection_letters_absent_without_patient_orientation() -> None:
    rule = annotation_rule(Geometry.projection((1.0, 1.0), "x", None))
    assert rule.projection_letters((1, 0, 0), (0, 1, 0)) == {}


def test_quadruped_letters_have_no_opposite_edge() -> None:
    assert opposite_patient_orientation("CD") is None
    rule = annotation_rule(Geometry.projection((1.0, 1.0), "x", ("CD", "F")))
    assert rule.projection_letters((1, 0, 0), (0, 1, 0)) == {
        "right": "CD",
        "bottom": "F",
        "top": "H",
    }


def test_geometry_to_dict_is_plain_json() -> None:
    import json

    g = Geometry.projection((0.1, 0.2), "src", ("A", "F"))
    d = json.loads(json.dumps(g.to_dict()))
    assert d["kind"] == "projection"
    assert d["pixel_spacing"] == [0.1, 0.2]


def test_volume_repr_names_the_kind() -> None:
    vol = Volume(np.zeros((1, 2, 2)), geometry=Geometry.unknown("x"))
    assert "geometry=unknown" in repr(vol)
