"""Console output under --anonymize names no input file and no patient."""

from __future__ import annotations

import logging
import shutil
import sys

import pytest

from tests.conftest import run_cli
from tests.deid.conftest import A
from volumeviz.cli import _console
from volumeviz.model.deid import keyed_hash


def _leaks(text: str) -> list[str]:
    low = text.lower()
    return [s for s in (*A.strings(), "LEAKY_") if s.lower() in low]


def test_filter_rewrites_paths_tag_values_and_identity(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VOLUMEVIZ_PSEUDONYM_KEY", "k")
    folder = tmp_path / "Leaky Test"
    (folder / "sub dir").mkdir(parents=True)
    (folder / "sub dir" / "LEAKY 1.dcm").write_bytes(b"")
    try:
        _console.protect([folder])
        from volumeviz.model.volume import VolumeMeta

        _console.add_identity(VolumeMeta(patient_name="LEAKY^PRUDENCE", patient_id="LEAK123"))
        print(f"{folder}/sub dir/LEAKY 1.dcm: no (0020,0032) Image Position (Patient)")
        print(f"{folder}: 3 files")
        print(f"{folder}/other name.dcm, next")
        print("x: (0010,0030) Patient's Birth Date '19010203' is not a date; (0028,0010) Rows '2'")
        print("(0010,0010) Patient's Name 'O'BRIEN^PAT' bad; (0020,0010) Study ID 'S1'")
        print("series LEAKY^PRUDENCE of leak123 seen 1999-09-09", file=sys.stderr)
        logging.getLogger("volumeviz.test").warning("reading %s/sub dir/LEAKY 1.dcm", folder)
        sys.stdout.write("partial line without end ")
        sys.stdout.write(f"{folder}\n")
    finally:
        _console.restore()
    out, err = capsys.readouterr()
    tag = keyed_hash("sub dir/LEAKY 1.dcm", b"k")[:8]
    lines = out.splitlines()
    assert lines[0] == f"<input>/file-{tag}: no (0020,0032) Image Position (Patient)"
    assert lines[1] == "<input>: 3 files"
    assert lines[2].startswith("<input>/file-")
    assert lines[2].endswith(", next")
    assert lines[3] == (
        "x: (0010,0030) Patient's Birth Date '[withheld]' is not a date; (0028,0010) Rows '2'"
    )
    assert (
        lines[4]
        == "(0010,0010) Patient's Name '[withheld]' bad; (0020,0010) Study ID '[withheld]'"
    )
    assert lines[5] == "partial line without end <input>"
    assert err.splitlines()[0] == "series [removed] of [removed] seen [removed]"
    assert not _leaks(out + err)
    assert sys.stdout is not None
    assert not isinstance(sys.stdout, _console._Filtered)


@pytest.mark.render
@pytest.mark.slow
def test_commands_print_nothing_identifying(two_identities, tmp_path, capsys):
    a, _ = two_identities
    bad = tmp_path / A.folder
    shutil.copytree(a, bad)
    (bad / "LEAKY_TEST notes.txt").write_text("not DICOM")
    runs = [
        ("screenshot", str(a), "--anonymize", "--size", "160x120", "-o", str(tmp_path / "s.png")),
        ("screenshot", str(bad / "LEAKY_TEST notes.txt"), "--anonymize", "-o",
         str(tmp_path / "e.png")),
        ("export", str(bad), "--anonymize", "-o", str(tmp_path / "x")),
        ("export", str(bad), "--anonymize", "-o", str(tmp_path / "y"), "--window", "file:9"),
        ("report", str(bad), "--anonymize", "--template", "brief", "--dpi", "36", "-o",
         str(tmp_path / "r.pdf")),
    ]  # fmt: skip
    codes = []
    for args in runs:
        code, out, err = run_cli(capsys, *args)
        codes.append(code)
        assert not _leaks(out + err), (args, out, err)
    assert codes[0] == 0
    assert codes[1] != 0  # an error, printed without the file's name
    assert codes[3] == 1  # failures, listed without names


def test_the_output_path_the_user_typed_is_printed_as_typed(tmp_path, capsys, monkeypatch):
    """'ANON' is a value of the identity (an accession number 'ANON-12345' gives it); the
    user's own '-o out/mg_anon.png' must still be printed as the file that is on disk, while
    the identity elsewhere in the same line is removed."""
    from volumeviz.io.deid import TextScrubber
    from volumeviz.model.deid import Identity

    monkeypatch.setenv("VOLUMEVIZ_PSEUDONYM_KEY", "k")
    scrub = TextScrubber([tmp_path / "in"], b"k")
    scrub.add(Identity(names=("ANON^PAT",), ids=("ANON",)))
    out = tmp_path / "out" / "mg_anon.png"
    assert "anon" not in scrub(f"{out} for ANON").lower().replace(str(tmp_path).lower(), "")
    scrub.keep(str(out))
    line = scrub(f"wrote {out} for patient ANON")
    assert line.startswith(f"wrote {out} for patient ")
    assert "ANON" not in line[len(f"wrote {out}") :]


def test_screenshot_prints_the_typed_output_under_anonymize(tmp_path, capsys, two_identities):
    """Patient A's family name is LEAKY; the user names the output after it: the line saying
    where the picture went names that file, which is there; nothing else identifies A."""
    out = tmp_path / "leaky-axial.png"
    code, stdout, err = run_cli(
        capsys,
        "screenshot",
        str(two_identities[0]),
        "--mpr",
        "axial",
        "--anonymize",
        "-o",
        str(out),
    )
    assert code == 0, err
    assert out.is_file()
    assert str(out) in stdout
    assert not _leaks(stdout.replace(str(out), "") + err)
