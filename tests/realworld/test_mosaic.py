"""Siemens MOSAIC: one file holding a grid of slices becomes those slices, placed as dcm2niix does.

Truth for the synthetic cases is built here: a small volume with a known value at every voxel is
written as a mosaic with the header a Siemens scanner writes (the corner-of-the-grid position, the
CSA NumberOfImagesInMosaic and SliceNormalVector); loading must put every value back at its LPS
position. The real case is the dcm_qa_sag DWI b=0 mosaic (dcm2niix: 82x82x48, 2.707x2.707x2.7 mm,
first NIfTI voxel at LPS (-63.45, -109.19, -158.90)).
"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from tests.conftest import shared_path
from tests.realworld.dicom_files import MR_IMAGE, add_csa_image_header, write_image
from volumeviz.errors import SeriesGeometryError
from volumeviz.io.discover import scan
from volumeviz.io.volume import load_series
from volumeviz.model.volume import Volume

REAL = "realworld/siemens_mosaic_dwi_b0/mosaic_b0.dcm"


def _rotation(axis: int, deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    m = np.eye(3)
    a, b = [x for x in range(3) if x != axis]
    m[a, a], m[a, b], m[b, a], m[b, b] = c, -s, s, c
    return m


def write_mosaic(
    path,
    truth: Volume,
    *,
    csa: bool = True,
    n_in_csa: int | None = None,
    acquisition: int = 1,
    series_uid: str | None = None,
    acquisition_time: str = "100000.000000",
    image_type: tuple[str, ...] = ("ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC"),
):
    """Write ``truth`` (slices k = 0..n-1 along direction[:, 2]) as one Siemens mosaic file."""
    ni, nj, n = truth.size
    m = int(np.ceil(np.sqrt(n)))
    mosaic = np.zeros((m * nj, m * ni), np.uint16)
    for k in range(n):
        r, c = divmod(k, m)
        mosaic[r * nj : (r + 1) * nj, c * ni : (c + 1) * ni] = truth.array[k]
    row_cos, col_cos, normal = (truth.direction[:, a] for a in range(3))
    dc, dr, dz = truth.spacing
    rows_m, cols_m = mosaic.shape
    # what Siemens writes: the corner of the whole grid, centred like one slice
    ipp = (
        np.asarray(truth.origin)
        - row_cos * dc * (cols_m - ni) / 2
        - col_cos * dr * (rows_m - nj) / 2
    )
    p = write_image(
        path,
        mosaic,
        sop_class=MR_IMAGE,
        modality="MR",
        series_uid=series_uid,
        ImageType=list(image_type),
        Manufacturer="SIEMENS",
        ImagePositionPatient=[f"{v:.6f}" for v in ipp],
        ImageOrientationPatient=[f"{v:.8f}" for v in (*row_cos, *col_cos)],
        PixelSpacing=[dr, dc],
        SliceThickness=dz,
        SpacingBetweenSlices=dz,
        AcquisitionNumber=acquisition,
        AcquisitionTime=acquisition_time,
        InstanceNumber=acquisition,
        FrameOfReferenceUID="1.2.3.4",
    )
    if csa:
        ds = pydicom.dcmread(p)
        add_csa_image_header(
            ds,
            {
                "NumberOfImagesInMosaic": ("US", [str(n if n_in_csa is None else n_in_csa)]),
                "SliceNormalVector": ("FD", [f"{v:.8f}" for v in normal]),
                "AcquisitionMatrixText": ("SH", [f"{nj}p*{ni}"]),
            },
        )
        ds.save_as(p)
    return p


def _truth(direction: np.ndarray, n: int = 7) -> Volume:
    """A 6 x 4 x n volume whose every voxel holds a distinct value (i + 10 j + 100 k + 1)."""
    ni, nj = 6, 4
    k, j, i = np.meshgrid(range(n), range(nj), range(ni), indexing="ij")
    arr = (i + 10 * j + 100 * k + 1).astype(np.uint16)
    return Volume(arr, origin=(-20.5, 31.25, 12.0), spacing=(1.5, 2.0, 3.0), direction=direction)


def _assert_same_voxels(vol: Volume, truth: Volume) -> None:
    ni, nj, nk = truth.size
    k, j, i = np.meshgrid(range(nk), range(nj), range(ni), indexing="ij")
    ijk = np.stack([i.ravel(), j.ravel(), k.ravel()], 1)
    got = vol.lps_to_index(truth.index_to_lps(ijk))
    near = np.rint(got).astype(int)
    assert np.abs(got - near).max() < 1e-3  # every truth voxel centre is a loaded voxel centre
    values = vol.array[near[:, 2], near[:, 1], near[:, 0]]
    np.testing.assert_array_equal(values, truth.array.ravel())


@pytest.mark.parametrize(
    "direction",
    [
        # the real case's layout: sagittal, tiles running towards the patient's left, which is
        # opposite to row x column
        np.column_stack([(0, 1, 0), (0, 0, -1), (1, 0, 0)]).astype(float),
        np.eye(3),  # axial, tiles running towards the head (along row x column)
        _rotation(0, 17) @ _rotation(2, -25),  # oblique about two axes
    ],
)
def test_synthetic_mosaic_voxels_land_where_they_belong(tmp_path, direction) -> None:
    truth = _truth(direction)
    vol = load_series(write_mosaic(tmp_path / "m.dcm", truth))
    assert vol.size == truth.size
    assert vol.spacing == pytest.approx(truth.spacing)
    assert vol.geometry.has_patient_frame
    _assert_same_voxels(vol, truth)


def test_mosaic_tiles_are_ordinary_slices_and_repeat_per_file(tmp_path) -> None:
    """Each file of a multi-file mosaic series expands into per-slice SliceRefs on one grid,
    so the rules that split repeated positions into volumes apply to them."""
    truth = _truth(np.eye(3), n=5)
    uid = pydicom.uid.generate_uid()
    for t in (1, 2):
        write_mosaic(tmp_path / f"m{t}.dcm", truth, acquisition=t, series_uid=uid)
    result = scan(tmp_path)
    slices = [s for info in result.series for s in info.slices]
    assert len(slices) == 10
    assert {s.mosaic for s in slices} == {(t, 3) for t in range(5)}
    assert all((s.rows, s.cols) == (4, 6) for s in slices)
    by_file: dict[str, list] = {}
    for s in slices:
        by_file.setdefault(s.path, []).append(s.ipp)
    a, b = (sorted(v) for v in by_file.values())
    np.testing.assert_allclose(a, b)  # the same 5 positions in both files
    # ... so the series is one grid with a second volume (io.dimensions' rules), not a refusal
    from volumeviz.io.volume import load_multivolume

    mv = load_multivolume(tmp_path)
    assert len(mv) == 2
    assert mv.volume(1).size == truth.size


def test_fewer_tiles_than_the_grid_holds(tmp_path) -> None:
    """7 slices in a 3x3 grid: the two last tiles are empty and not slices."""
    truth = _truth(np.eye(3), n=7)
    vol = load_series(write_mosaic(tmp_path / "m.dcm", truth))
    assert vol.size[2] == 7


def test_mosaic_without_a_tile_count_is_refused_naming_the_elements(tmp_path) -> None:
    p = write_mosaic(tmp_path / "m.dcm", _truth(np.eye(3)), csa=False)
    with pytest.raises(Exception, match=r"\(0019,100A\)") as exc:
        load_series(p)
    assert "MOSAIC" in str(exc.value)


def test_mosaic_count_that_does_not_tile_is_refused(tmp_path) -> None:
    p = write_mosaic(tmp_path / "m.dcm", _truth(np.eye(3), n=4), n_in_csa=5)
    with pytest.raises(Exception, match="NumberOfImagesInMosaic 5 does not tile"):
        load_series(p)


def test_real_siemens_mosaic_matches_dcm2niix(shared_data) -> None:
    vol = load_series(shared_path(shared_data, REAL))
    assert vol.size == (82, 82, 48)
    assert vol.spacing == pytest.approx((2.7073171, 2.7073171, 2.7), abs=1e-5)
    # dcm2niix stores rows bottom-up and slices in CSA order: its first voxel is our voxel at
    # the last row of the slice the CSA lists first; its affine's corner must be one of ours
    corners = vol.corners_lps()
    d2n_first = np.array([-63.45, -109.19, -158.90])
    assert np.min(np.linalg.norm(corners - d2n_first, axis=1)) < 0.01
    # the volume spans 48 x 2.7 mm along the patient's left-right axis, centred on x = 0
    xs = corners[:, 0]
    assert (xs.min(), xs.max()) == pytest.approx((-63.45, 63.45), abs=0.01)
    assert not vol.issues


def test_real_mosaic_strict_is_not_refused(shared_data) -> None:
    try:
        load_series(shared_path(shared_data, REAL), strict=True)
    except SeriesGeometryError as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"a clean mosaic was refused under strict: {exc}")


@pytest.mark.parametrize(
    "rel",
    ["syntax/siemens_mr_1_explicit_le.dcm", "syntax/siemens_mr_7_jpegls_lossless.dcm"],
)
def test_dcm_qa_ts_mosaic_has_dcm2niix_affine(shared_data, rel) -> None:
    """dcm_qa_ts's Siemens EPI (plain and JPEG-LS): a 6x6 mosaic of 35 oblique 64x64 slices;
    the upstream dcm2niix NIfTI is 64x64x35 with this RAS affine (voxel rows bottom-up)."""
    import json

    from volumeviz.io.nifti import affine_ras_to_lps

    vol = load_series(shared_path(shared_data, rel))
    assert vol.size == (64, 64, 35)
    ref = json.loads(
        shared_path(
            shared_data, "ref/dcm_qa_ts_syntax_set/upstream_dcm_qa_ts_Ref/upstream_geometry.json"
        ).read_text()
    )["nifti_geometry"][0]
    lps = affine_ras_to_lps(np.asarray(ref["affine_RAS"], float))
    ni, nj, nk = ref["shape"]
    corners = np.array(
        [lps @ [i, j, k, 1] for i in (0, ni - 1) for j in (0, nj - 1) for k in (0, nk - 1)]
    )[:, :3]
    ours = vol.corners_lps()
    # the same 8 corner voxel centres (in whatever order each numbers them), to 0.01 mm
    dist = np.linalg.norm(corners[:, None, :] - ours[None, :, :], axis=2)
    assert dist.min(axis=1).max() < 0.01


def _mosaic_run(tmp_path, n_volumes: int, *, diffusion: bool = False) -> list[Volume]:
    """A Siemens mosaic series of ``n_volumes`` files (one whole volume each, 2.5 s apart), each
    volume's values distinct (truth + 1000 t); files named so that directory order is reversed."""
    truth = _truth(_rotation(0, 17) @ _rotation(1, 8), n=5)
    uid = pydicom.uid.generate_uid()
    image_type = ("ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC")
    if diffusion:
        image_type = ("ORIGINAL", "PRIMARY", "DIFFUSION", "NONE", "ND", "MOSAIC")
    truths = []
    for t in range(n_volumes):
        vol_t = truth.replace(array=(truth.array + 1000 * t).astype(np.uint16))
        write_mosaic(
            tmp_path / f"z{n_volumes - t:02d}.dcm",
            vol_t,
            acquisition=t + 1,
            series_uid=uid,
            acquisition_time=f"{100000 + 2.5 * t:.6f}",
            image_type=image_type,
        )
        truths.append(vol_t)
    return truths


def test_multi_file_mosaic_series_is_a_time_series(tmp_path) -> None:
    """One mosaic per repetition (fMRI): volume t is file t, at its acquisition time."""
    from volumeviz.io.volume import load_multivolume

    truths = _mosaic_run(tmp_path, 3)
    mv = load_multivolume(tmp_path)
    assert mv.names == ("time",)
    time = mv.dimension("time")
    assert time.unit == "s"
    assert [float(v) for v in time.values] == pytest.approx([0.0, 2.5, 5.0])
    assert "Acquisition Number" in time.source
    for t, truth in enumerate(truths):
        vol = mv.volume({"time": t})
        assert vol.geometry.has_patient_frame
        _assert_same_voxels(vol, truth)
    assert mv.label({"time": 2}) == "time 3/3 (5 s)"


def test_multi_file_diffusion_mosaic_is_volumes_not_time(tmp_path) -> None:
    """A DWI mosaic series repeats over gradient directions, not time: 'acquisition'."""
    from volumeviz.io.volume import load_multivolume

    truths = _mosaic_run(tmp_path, 2, diffusion=True)
    mv = load_multivolume(tmp_path)
    assert mv.names == ("acquisition",)
    for t, truth in enumerate(truths):
        _assert_same_voxels(mv.volume({"acquisition": t}), truth)


def _conformance(folder) -> dict:
    import json

    from tests.realworld.test_conformance import _run

    proc = _run(str(folder), "--json", timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    (rec,) = json.loads(proc.stdout)["series"]
    return rec


def test_synthetic_mosaic_time_series_agrees_with_dcm2niix_volume_by_volume(tmp_path) -> None:
    _mosaic_run(tmp_path, 3)
    rec = _conformance(tmp_path)
    assert rec["status"] == "agree", rec
    assert rec["ours_shape"] == rec["d2n_shape"] == [6, 4, 5, 3]
    assert rec["equal_fraction"] == 1.0


def test_real_mosaic_repeated_is_two_volumes_as_dcm2niix_has_them(shared_data, tmp_path) -> None:
    """The real DWI b=0 mosaic and a copy acquired next (Acquisition Number 2, its values
    changed): one 82x82x48 grid with 2 volumes, each where dcm2niix's 4D output has it."""
    from volumeviz.io.volume import load_multivolume

    src = shared_path(shared_data, REAL)
    first = pydicom.dcmread(src)
    first.save_as(tmp_path / "b.dcm")
    second = pydicom.dcmread(src)
    second.SOPInstanceUID = second.file_meta.MediaStorageSOPInstanceUID = (
        pydicom.uid.generate_uid()
    )
    second.AcquisitionNumber = 2
    second.InstanceNumber = 2
    second.AcquisitionTime = "134507.237500"
    arr = second.pixel_array
    second.PixelData = (arr // 2 + 7).astype(arr.dtype).tobytes()
    second.save_as(tmp_path / "a.dcm")
    mv = load_multivolume(tmp_path)
    assert mv.shape == (2,)
    assert mv.volume({mv.names[0]: 0}).size == (82, 82, 48)
    np.testing.assert_array_equal(
        mv.volume({mv.names[0]: 1}).array, mv.volume({mv.names[0]: 0}).array // 2 + 7
    )
    rec = _conformance(tmp_path)
    assert rec["status"] == "agree", rec
    assert rec["ours_shape"] == rec["d2n_shape"] == [82, 82, 48, 2]
