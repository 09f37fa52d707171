"""The Label Map Segmentation SOP class (PS3.3 C.8.20, 1.2.840.10008.5.1.4.1.1.66.7) reads back."""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from volumeviz.io.seg import SEG_SOP_CLASSES, load_segmentation
from volumeviz.io.volume import load_series
from volumeviz.io.write import write_series
from volumeviz.model import phantom
from volumeviz.model.volume import VolumeMeta


def test_labelmap_sop_class_reads_back_to_its_labels(tmp_path: Path) -> None:
    vol = phantom.asymmetric((20, 16, 10), spacing=(0.8, 0.9, 2.0))
    write_series(vol.replace(meta=VolumeMeta(modality="CT", units="HU")), tmp_path / "ct")
    ct = load_series(tmp_path / "ct")
    lab = np.zeros(ct.array.shape, np.uint8)
    lab[2:6, 3:9, 4:12] = 1
    lab[6:9, 8:14, 10:18] = 2
    sources = [pydicom.dcmread(f) for f in ct.meta.source_files]  # k order
    seg = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=lab,
        segmentation_type=hd.seg.SegmentationTypeValues.LABELMAP,
        segment_descriptions=[
            hd.seg.SegmentDescription(
                segment_number=n,
                segment_label=f"label {n}",
                segmented_property_category=codes.SCT.Tissue,
                segmented_property_type=codes.SCT.Tissue,
                algorithm_type="MANUAL",
            )
            for n in (1, 2)
        ],
        series_instance_uid=generate_uid(),
        series_number=5,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="test",
        manufacturer_model_name="test",
        software_versions="1",
        device_serial_number="1",
    )
    seg.save_as(tmp_path / "labelmap-seg.dcm")
    assert seg.SOPClassUID == SEG_SOP_CLASSES[1]
    back = load_segmentation(tmp_path / "labelmap-seg.dcm", ct)
    assert back.kind == "SEG"
    assert [s.number for s in back.segments] == [1, 2]
    for s in back.segments:
        assert not s.fractional
        np.testing.assert_array_equal(s.full_mask(ct.array.shape), lab == s.number)
    assert back.issues == ()
