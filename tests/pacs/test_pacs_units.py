"""PACS addresses, settings and the instance cache: no server needed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from volumeviz.errors import PacsError, UsageError
from volumeviz.io.pacs import configure, date_range, parse_address
from volumeviz.io.pacs.address import is_address
from volumeviz.io.pacs.cache import InstanceCache
from volumeviz.io.pacs.settings import PacsSettings, current, parse_size


@pytest.mark.parametrize(
    ("text", "protocol", "url", "host", "port", "aet", "study", "series"),
    [
        (
            "dicomweb+http://127.0.0.1:8042/dicom-web",
            "dicomweb", "http://127.0.0.1:8042/dicom-web", "127.0.0.1", 8042, "", None, None,
        ),
        (
            "dicomweb+https://pacs.example.org/wado/rs/studies/1.2.3/",
            "dicomweb", "https://pacs.example.org/wado/rs", "pacs.example.org", 443, "", "1.2.3",
            None,
        ),
        (
            "dicomweb+http://[::1]:8042/studies/1.2.3/series/1.2.3.4",
            "dicomweb", "http://[::1]:8042", "::1", 8042, "", "1.2.3", "1.2.3.4",
        ),
        (
            "dimse://ORTHANC@127.0.0.1:4242/studies/1.2/series/1.2.5",
            "dimse", "", "127.0.0.1", 4242, "ORTHANC", "1.2", "1.2.5",
        ),
        ("dimse://MY%20PACS@pacs", "dimse", "", "pacs", 104, "MY PACS", None, None),
    ],
)  # fmt: skip
def test_address_parses(text, protocol, url, host, port, aet, study, series) -> None:
    a = parse_address(text)
    assert (a.protocol, a.url, a.host, a.port, a.called_aet) == (protocol, url, host, port, aet)
    assert (a.study_uid, a.series_uid) == (study, series)
    assert parse_address(str(a)) == a  # round trip


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("dicomweb+http://user:secret@host/dicom-web", "never taken from the address"),
        ("dicomweb+http://host/dicom-web/studies/", "must be followed by a Study Instance UID"),
        ("dicomweb+http://host/dicom-web/studies/1.2.x", "not a Study Instance UID"),
        ("dicomweb+http://host/studies/1.2/series/../../etc", "only /series/UID may follow"),
        ("dicomweb+http://host/studies/1.2/series/1..3", "not a Series Instance UID"),
        ("dicomweb+http://host:99999/dicom-web", "bad port"),
        ("dicomweb+http://host/dicom-web?x=1", "no query"),
        ("dimse://127.0.0.1:4242", "dimse://CALLED_AET@HOST:PORT"),
        ("dimse://WAY_TOO_LONG_AE_TITLE@host:104", "not an AE title"),
        ("dimse://A@host:104/patients/1", "only /studies/UID"),
        ("ct/folder", "not a PACS address"),
    ],
)
def test_bad_address_is_one_usage_error(text: str, says: str) -> None:
    with pytest.raises(UsageError, match=says) as err:
        parse_address(text)
    assert "secret" not in str(err.value)
    assert "\n" not in str(err.value)


def test_is_address_only_for_pacs_schemes() -> None:
    assert is_address(" DICOMweb+HTTPS://h/x")
    assert not is_address(Path("dimse://A@h"))  # a Path has folded the // already
    assert not is_address("http://host/dicom-web")  # plain http is not ours to guess


def test_date_filters() -> None:
    assert date_range("20150206") == ("20150206", "20150206")
    assert date_range("2015-01-01..2015-12-31") == ("20150101", "20151231")
    assert date_range("20150101-") == ("20150101", "")
    with pytest.raises(UsageError, match="--date"):
        date_range("last week")


def test_settings_from_environment_and_configure(tmp_path: Path) -> None:
    s = PacsSettings.from_env(
        {
            "VOLUMEVIZ_AET": "WS1",
            "VOLUMEVIZ_PACS_CACHE": str(tmp_path),
            "VOLUMEVIZ_PACS_CACHE_SIZE": "1.5G",
            "VOLUMEVIZ_PACS_NO_CACHE": "1",
            "VOLUMEVIZ_PACS_WORKERS": "8",
            "VOLUMEVIZ_DIMSE_RETRIEVE": "MOVE",
            "VOLUMEVIZ_DIMSE_MOVE_PORT": "11112",
        }
    )
    assert (s.aet, s.cache_dir, s.cache_limit, s.use_cache) == ("WS1", tmp_path, 3 * 2**29, False)
    assert (s.workers, s.retrieve, s.move_port) == (8, "move", 11112)
    assert parse_size("500M") == 500 * 2**20
    with pytest.raises(UsageError, match="CA bundle"):
        PacsSettings.from_env({"VOLUMEVIZ_CA_BUNDLE": str(tmp_path / "missing.pem")})
    with pytest.raises(UsageError, match="AE title"):
        PacsSettings.from_env({"VOLUMEVIZ_AET": "A\\B"})
    with configure(aet="OTHER", workers=2):
        assert (current().aet, current().workers) == ("OTHER", 2)
    assert current().aet != "OTHER"
    with pytest.raises(UsageError, match="unknown PACS setting"):
        with configure(verify=False):
            pass


def _instance(uid: str, size: int = 64) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = uid
    ds.Rows, ds.Columns = 1, size
    ds.BitsAllocated = 8
    ds.PixelData = b"\0" * size
    return ds


def test_cache_is_content_addressed_and_atomic(tmp_path: Path) -> None:
    cache = InstanceCache(tmp_path, limit=2**30)
    uid = generate_uid()
    assert cache.get(uid) is None
    p = cache.put_dataset(uid, _instance(uid))
    assert p.name == f"{uid}.dcm"
    assert p.parent.parent == tmp_path / "objects"
    assert pydicom.dcmread(p).SOPInstanceUID == uid
    assert cache.get(uid) == p
    assert list((tmp_path / "tmp").iterdir()) == []
    # the PACS sent another instance than asked for: refused, nothing kept
    other = generate_uid()
    with pytest.raises(PacsError, match="instead"):
        cache.put_dataset(other, _instance(uid))
    with pytest.raises(PacsError, match="not DICOM"):
        cache.put_bytes(other, b"\0" * 200)
    assert cache.get(other) is None
    assert list((tmp_path / "tmp").iterdir()) == []
    # a UID that would escape the cache folder is refused
    with pytest.raises(PacsError, match="not a SOP Instance UID"):
        cache.path_for("../../etc/passwd")


def test_cache_refuses_a_truncated_instance(tmp_path: Path) -> None:
    """A part cut short can still parse; the loader's own length check keeps it out."""
    cache = InstanceCache(tmp_path, limit=2**30)
    uid = generate_uid()
    ds = _instance(uid, 4096)
    ds.PixelData = ds.PixelData[:1000]  # what a cut multipart stream can hand over
    with pytest.raises(PacsError, match=r"arrived incomplete or damaged.*Pixel Data"):
        cache.put_dataset(uid, ds)
    assert cache.get(uid) is None
    assert list((tmp_path / "tmp").iterdir()) == []


def test_cache_failure_mid_write_leaves_nothing(tmp_path: Path) -> None:
    cache = InstanceCache(tmp_path, limit=2**30)
    uid = generate_uid()

    def broken(fh: object) -> None:
        fh.write(b"half an instance")  # type: ignore[attr-defined]
        raise ConnectionResetError("cut")

    with pytest.raises(ConnectionResetError):
        cache._commit(uid, broken)
    assert cache.get(uid) is None
    assert list((tmp_path / "tmp").iterdir()) == []


def test_cache_removes_stale_partial_files_and_evicts_lru(tmp_path: Path) -> None:
    (tmp_path / "tmp").mkdir(parents=True)
    stale = tmp_path / "tmp" / "1.2.3.abc.part"
    stale.write_bytes(b"x")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    cache = InstanceCache(tmp_path, limit=10**9)
    assert not stale.exists()
    uids = [generate_uid() for _ in range(4)]
    paths = [cache.put_dataset(u, _instance(u, 4096)) for u in uids]
    for n, p in enumerate(paths):  # oldest first, all older than the "recently used" guard
        t = time.time() - 3600 + n
        os.utime(p, (t, t))
    cache.limit = 2 * paths[0].stat().st_size + 10
    cache.evict(keep=[paths[0]])
    left = [p.exists() for p in paths]
    assert left == [True, False, False, True]  # LRU gone, the kept one stays
    assert cache.size() <= cache.limit
