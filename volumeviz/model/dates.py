"""DICOM dates and times as people read them, in ONE format everywhere (ISO 8601).

DICOM stores a date (DA) as ``YYYYMMDD`` and a time (TM) as ``HHMMSS.FFFFFF`` (PS3.5 §6.2, with
the obsolete ACR-NEMA forms ``YYYY.MM.DD`` and ``HH:MM:SS`` still met in old files). ``info``,
the picture annotations, the DICOMDIR tree and reports all show them through these functions:
``2018-05-26``, ``15:25`` and ``2018-05-26 15:25``. A value that is not a valid date or time is
shown as given (never guessed into a date).

Examples
--------
>>> format_date("20180526"), format_date("2018.05.26"), format_date("")
('2018-05-26', '2018-05-26', '')
>>> format_date("20181345")  # no 13th month: shown as found
'20181345'
>>> format_time("152509.123"), format_time("0930"), format_time("15:25:09")
('15:25', '09:30', '15:25')
>>> format_datetime("20180526", "152509")
'2018-05-26 15:25'
"""

from __future__ import annotations

import datetime as _dt

__all__ = ["format_date", "format_datetime", "format_time"]


def format_date(da: object) -> str:
    """Return a DICOM DA value as ``YYYY-MM-DD`` (empty stays empty; invalid is shown as is)."""
    text = str(da or "").strip()
    digits = text.replace(".", "") if len(text) == 10 and text[4] == text[7] == "." else text
    if len(digits) == 8 and digits.isdigit():
        try:
            return _dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:])).isoformat()
        except ValueError:
            return text
    return text


def format_time(tm: object) -> str:
    """Return a DICOM TM value as ``HH:MM`` (seconds dropped; invalid is shown as is)."""
    text = str(tm or "").strip()
    digits = text.replace(":", "") if ":" in text else text
    head = digits.split(".", 1)[0]
    if len(head) >= 4 and head[:4].isdigit():
        hh, mm = int(head[:2]), int(head[2:4])
        if hh < 24 and mm < 60:
            return f"{hh:02d}:{mm:02d}"
    return text


def format_datetime(da: object, tm: object = "") -> str:
    """Return ``YYYY-MM-DD HH:MM`` (or just the date when there is no time)."""
    return " ".join(x for x in (format_date(da), format_time(tm)) if x)
