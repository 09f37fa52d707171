"""The ``auto`` mapper's cost model as a model: what it depends on, never how long a frame takes.

How close the estimates are to real CPU seconds is measured by ``scripts/bench_mapper_cost.py``
(timing differs between machines; timed unit tests are not allowed here).
"""

from __future__ import annotations

from volumeviz.model import phantom
from volumeviz.render import volume as rvolume
from volumeviz.transfer import load_preset


def test_costs_grow_with_pixels_and_voxels() -> None:
    small, big = phantom.asymmetric(32), phantom.asymmetric(64)
    tf = load_preset("bone")
    a = rvolume.mapper_costs(small, tf, 300 * 300)
    b = rvolume.mapper_costs(small, tf, 1024 * 768)
    c = rvolume.mapper_costs(big, tf, 300 * 300)
    for kind in ("fixed", "gpu"):
        assert 0 < a[kind] < b[kind]
        assert a[kind] < c[kind]


def test_normals_already_encoded_only_cost_the_cast() -> None:
    vol, tf = phantom.asymmetric(64), load_preset("bone")
    cold = rvolume.mapper_costs(vol, tf, 640 * 480)
    warm = rvolume.mapper_costs(vol, tf, 640 * 480, normals_ready=True)
    assert warm["fixed"] < cold["fixed"]
    assert warm["gpu"] == cold["gpu"]
    samples = rvolume.ray_samples(vol, 640 * 480)
    assert warm["fixed"] == samples * rvolume.FIXED_NS_PER_SAMPLE * 1e-9


def test_shading_costs_the_fixed_mapper_a_normal_per_voxel() -> None:
    vol = phantom.asymmetric(64)
    shaded = rvolume.mapper_costs(vol, load_preset("bone"), 640 * 480)
    flat = rvolume.mapper_costs(vol, load_preset("mip"), 640 * 480)
    voxels = float(vol.size[0] * vol.size[1] * vol.size[2])
    diff = shaded["fixed"] - flat["fixed"]
    assert abs(diff - voxels * rvolume.FIXED_NS_PER_VOXEL_SHADED * 1e-9) < 1e-12


def test_one_shot_pick_follows_the_estimates() -> None:
    tf = load_preset("bone")
    for vol, pixels in ((phantom.asymmetric(64), 480_000), (phantom.asymmetric(16), 1024 * 768)):
        costs = rvolume.mapper_costs(vol, tf, pixels)
        want = "gpu" if costs["gpu"] < costs["fixed"] else "fixed"
        assert rvolume.one_shot_mapper(vol, tf, pixels, renderer="llvmpipe") == want
    assert rvolume.one_shot_mapper(phantom.asymmetric(16), tf, 1000, renderer="NVIDIA") == "gpu"
