"""Date strings from feeds and article pages -> aware UTC datetimes (or None, never an error).

feedparser's own handlers are used where they are reliable (W3C-DTF, asctime, Perforce,
the Greek, Hungarian and Korean formats, two-digit-year ISO 8601). Everything that looks
like an RFC 822 date or a "human" date goes through our token parser first, because
feedparser's RFC 822 handler silently drops AM/PM markers and unknown zone names
("1:55 PM EST" becomes 01:55 UTC). Times without a zone are read as UTC.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedparser.datetimes import (
    _parse_date_asctime,
    _parse_date_greek,
    _parse_date_hungarian,
    _parse_date_iso8601,
    _parse_date_nate,
    _parse_date_onblog,
    _parse_date_perforce,
    _parse_date_rfc822,
    _parse_date_w3dtf,
)

__all__ = ["from_struct_time", "month_number", "parse_date", "parse_page_date"]

# Longer strings are prose, not dates; capping keeps every regex below cheap.
_MAX_LENGTH = 200

StructTimeParser = Callable[[str], Sequence[int] | None]


def from_struct_time(value: Sequence[int] | time.struct_time | None) -> datetime | None:
    """Turn a UTC 9-tuple (as feedparser returns) into an aware UTC datetime, or None."""
    if value is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in tuple(value)[:6])
        # time.struct_time allows leap seconds (60, 61); datetime does not.
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def parse_date(text: str | None) -> datetime | None:
    """Parse a date string found in a feed or page into an aware UTC datetime, or None."""
    if not text or not isinstance(text, str):
        return None
    text = " ".join(text.split())
    if not text or len(text) > _MAX_LENGTH:
        return None
    try:
        return _parse(text)
    except (ValueError, OverflowError, KeyError, IndexError, TypeError, AttributeError):
        # The contract is "never raises": a date we cannot read is simply unknown.
        return None


def parse_page_date(text: str | None) -> datetime | None:
    """Like ``parse_date``, but in the numeric UTC offset the string declares, if any.

    Issue 15: a page dated ``2021-03-03T00:30+01:00`` was published on the 3rd where it was
    written; in UTC it is the 2nd. The instant is the same; the offset keeps the page's day.
    """
    instant = parse_date(text)
    if instant is None or text is None:
        return None
    offset = _DECLARED_OFFSET.search(" ".join(text.split()))
    if offset is None:
        return instant
    zone = _fixed(offset.group("sign"), offset.group("hour"), offset.group("minute"))
    return instant.astimezone(zone) if zone is not None else instant


# A numeric offset right after a time of day, ending the string ("…T00:30+01:00",
# "… 00:30:00 +0100", "… 00:30 GMT+1").
_DECLARED_OFFSET = re.compile(
    r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:gmt|utc|ut)?\s*"
    r"(?P<sign>[+-])(?P<hour>\d{1,2}):?(?P<minute>\d{2})?$",
    re.IGNORECASE,
)


def _parse(text: str) -> datetime | None:
    if text.isdigit():
        return _parse_digits(text)
    if _ISO_PREFIX.match(text):
        # A four-digit year followed by "-": W3C-DTF or nothing. feedparser's ISO 8601
        # handler would "repair" 25:14 into 01:14 the next day and ignore trailing junk.
        iso = _OFFSET_THEN_Z.sub(r"\1", text)  # "…-05:00Z": the offset is the real one
        found = _first_struct(iso, (_parse_date_w3dtf, _parse_date_hungarian, _parse_date_nate))
        return found or _parse_tokens(text)
    if _SHORT_ISO.fullmatch(text):
        return _first_struct(text, (_parse_date_iso8601,))
    return _parse_tokens(text) or _first_struct(text, _FEEDPARSER_FALLBACKS)


_ISO_PREFIX = re.compile(r"\d{4}-")
_OFFSET_THEN_Z = re.compile(r"([+-]\d{2}:?\d{2})Z$")
# Two-digit-year ISO 8601 forms feedparser supports: -YYMM, YYMMDD, YY-MM-DD, -YY-MM.
# Five bare digits (YYDDD ordinals) are left out on purpose: "22013" is more likely junk.
_SHORT_ISO = re.compile(r"-\d{2}-?\d{2}|\d{2}-\d{2}-\d{2}")

_FEEDPARSER_FALLBACKS: tuple[StructTimeParser, ...] = (
    _parse_date_rfc822,
    _parse_date_asctime,
    _parse_date_perforce,
    _parse_date_greek,
    _parse_date_hungarian,
    _parse_date_nate,
    _parse_date_onblog,
)


def _first_struct(text: str, parsers: Sequence[StructTimeParser]) -> datetime | None:
    for parser in parsers:
        try:
            found = parser(text)
        except (KeyError, OverflowError, ValueError, AttributeError, TypeError, IndexError):
            continue
        if found and len(found) == 9:
            result = from_struct_time(found)
            if result is not None:
                return result
    return None


def _parse_digits(text: str) -> datetime | None:
    """Bare digits: Unix time (seconds or milliseconds), YYYYMMDD, YYMMDD or a year."""
    if len(text) in (9, 10):
        return datetime.fromtimestamp(int(text), UTC)
    if len(text) == 13:
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    if len(text) == 8:
        return datetime(int(text[:4]), int(text[4:6]), int(text[6:]), tzinfo=UTC)
    if len(text) in (4, 6):
        return _first_struct(text, (_parse_date_w3dtf, _parse_date_iso8601))
    return None


# --- the token parser: RFC 822 and its many real-world relatives ---------------------

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "jan january janv janvier januar jän jänner enero ene gennaio gen janeiro januari",
        "feb february févr fév février fevr fevrier februar febrero febbraio fevereiro fev"
        " februari",
        "mar march mars märz mär mrz marzo março maart mrt",
        "apr april avr avril abril abr aprile",
        "may mai mayo maggio mag maio mei",
        "jun june juin juni junio giugno giu junho",
        "jul july juil juillet juli julio luglio lug julho",
        "aug august août aout agosto ago augustus",
        "sep sept september septembre septiembre setiembre settembre set setembro",
        "oct october octobre oktober okt octubre ottobre ott outubro out",
        "nov november novembre noviembre novembro",
        "dec december déc décembre decembre dezember dez diciembre dic dicembre dezembro",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number


def month_number(word: str) -> int | None:
    """The month a month name or abbreviation names, in the languages above ("Dez." -> 12)."""
    return _MONTHS.get(word.lower().rstrip("."))


def _words(text: str) -> frozenset[str]:
    """A word list written as one whitespace-separated string, for readability."""
    return frozenset(text.split())


_WEEKDAYS = _words(
    # English, French, German, Spanish, Italian, Portuguese, Dutch; full and abbreviated.
    """
    mon monday tue tues tuesday wed weds wednesday thu thur thurs thursday fri friday
    sat saturday sun sunday
    lun lundi mar mardi mer mercredi jeu jeudi ven vendredi sam samedi dim dimanche
    mo montag di dienstag mi mittwoch do donnerstag fr freitag sa samstag so sonntag
    lunes martes mié mie miércoles miercoles jue jueves vie viernes sáb sab sábado sabado
    dom domingo lunedì lunedi martedì martedi mercoledì mercoledi gio giovedì giovedi
    venerdì venerdi sabato domenica seg segunda ter terça terca qua quarta qui quinta sex
    sexta ma maandag dinsdag wo woensdag donderdag vr vrijdag za zaterdag zo zondag
    """
)

# Words that may sit between the parts of a date without meaning anything ("29.04.2020,
# 12:01 Uhr").
_NOISE = _words("at on the of de del le la um uhr à a")

_ZONES: dict[str, int] = {  # minutes east of UTC
    "z": 0, "ut": 0, "utc": 0, "gmt": 0, "wet": 0,
    "est": -300, "edt": -240, "cst": -360, "cdt": -300,
    "mst": -420, "mdt": -360, "pst": -480, "pdt": -420,
    "at": -240, "et": -300, "ct": -360, "mt": -420, "pt": -480,
    "ast": -240, "adt": -180, "nst": -210, "ndt": -150,
    "akst": -540, "akdt": -480, "hst": -600,
    "bst": 60, "ist": 330, "cet": 60, "cest": 120, "met": 60, "mest": 120,
    "west": 60, "eet": 120, "eest": 180, "msk": 180,
    "hkt": 480, "sgt": 480, "awst": 480, "jst": 540, "kst": 540,
    "acst": 570, "acdt": 630, "aest": 600, "aedt": 660, "nzst": 720, "nzdt": 780,
}  # fmt: skip

_TOKEN = re.compile(
    r"""
      (?P<paren>\([^)]*\))
    | (?P<zonename>[A-Za-z]+/[A-Za-z_]+(?:/[A-Za-z_]+)?(?:[+-]\d{1,2})?)
    | (?P<time>(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?)
    | (?P<ampm>(?<![^\W\d_])[ap]\.?m\b\.?)
    | (?P<gmtoffset>(?:gmt|utc|ut)(?P<gsign>[+-])(?P<ghour>\d{1,2})(?::?(?P<gmin>\d{2}))?)
    | (?P<offset>(?<![\w-])(?P<sign>[+-])(?P<ohour>\d{2}):?(?P<omin>\d{2})?(?!\d))
    | (?P<numdate>(?P<n1>\d{1,4})(?P<sep>[/.-])(?P<n2>\d{1,2})(?P=sep)(?P<n3>\d{2,4})(?!\d))
    | (?P<number>\d+)(?:st|nd|rd|th)?
    | (?P<word>[^\W\d_]+)
    | (?P<junk>[^\s,.\-–/])
    """,
    re.VERBOSE | re.IGNORECASE,
)


@dataclass
class _Parts:
    """Pieces of a date collected while scanning tokens."""

    year: int | None = None
    month: int | None = None
    day: int | None = None
    hour: int = 0
    minute: int = 0
    second: int = 0
    pm: bool | None = None
    zone: tzinfo | None = None
    has_time: bool = False
    numbers: list[str] = field(default_factory=list)
    month_words: list[tuple[str, int]] = field(default_factory=list)


def _parse_tokens(text: str) -> datetime | None:
    parts = _Parts()
    for match in _TOKEN.finditer(text):
        if not _take(parts, match):
            return None
    return _assemble(parts)


def _take(parts: _Parts, match: re.Match[str]) -> bool:
    """Record one token; False when the token shows this is not a date we understand."""
    kind = match.lastgroup
    value = match.group(0)
    if kind == "paren":  # "(Coordinated Universal Time)": a comment, as in RFC 822
        return True
    if kind == "junk":
        return False
    if kind == "time":
        if parts.has_time:
            return False
        parts.has_time = True
        parts.hour = int(match.group("hour"))
        parts.minute = int(match.group("minute"))
        parts.second = int(match.group("second") or 0)
        return True
    if kind == "ampm":
        if not parts.has_time:
            return False
        parts.pm = value.lower().startswith("p")
        return True
    if kind == "zonename":
        return _set_zone(parts, _zone_by_name(value))
    if kind == "gmtoffset":
        return _set_zone(
            parts, _fixed(match.group("gsign"), match.group("ghour"), match.group("gmin"))
        )
    if kind == "offset":
        # A numeric offset only means something after a time ("2013-01-27-01" is junk).
        if not parts.has_time:
            return False
        return _set_zone(
            parts, _fixed(match.group("sign"), match.group("ohour"), match.group("omin"))
        )
    if kind == "numdate":
        return _take_numeric_date(parts, match)
    if kind == "number":
        parts.numbers.append(match.group("number"))
        return True
    return _take_word(parts, value.lower(), match.start())


def _take_word(parts: _Parts, word: str, position: int) -> bool:
    if word in ("am", "pm"):
        if not parts.has_time:
            return False
        parts.pm = word == "pm"
        return True
    if word in _ZONES and (parts.has_time or word not in _NOISE | _WEEKDAYS | _MONTHS.keys()):
        return _set_zone(parts, timezone(timedelta(minutes=_ZONES[word])))
    if word in _MONTHS:
        parts.month_words.append((word, position))
        return True
    return word in _WEEKDAYS or word in _NOISE


def _take_numeric_date(parts: _Parts, match: re.Match[str]) -> bool:
    """All-numeric dates: Y-M-D, D.M.Y, and M/D/Y unless the first number cannot be a month."""
    if parts.year is not None:
        return False
    first, second, third = match.group("n1"), match.group("n2"), match.group("n3")
    if len(first) == 4:
        year, month, day = first, second, third
    elif len(first) == 3 or len(third) == 3:
        return False
    elif match.group("sep") == "/" and int(first) <= 12:
        month, day, year = first, second, third  # US order, the common one in English feeds
    else:
        day, month, year = first, second, third
    parts.year, parts.month, parts.day = _year(year), int(month), int(day)
    return True


def _set_zone(parts: _Parts, zone: tzinfo | None) -> bool:
    if zone is None or parts.zone is not None:
        return False
    parts.zone = zone
    return True


def _fixed(sign: str, hours: str, minutes: str | None) -> tzinfo | None:
    hour, minute = int(hours), int(minutes or 0)
    if hour > 23 or minute > 59:
        return None
    offset = timedelta(hours=hour, minutes=minute)
    return timezone(-offset if sign == "-" else offset)


def _zone_by_name(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _year(text: str) -> int:
    year = int(text)
    if len(text) <= 2:
        # RFC 2822 section 4.3: 00-49 are 2000-2049, 50-99 are 1950-1999.
        year += 2000 if year < 50 else 1900
    return year


def _assemble(parts: _Parts) -> datetime | None:
    if not _resolve_date(parts) or parts.year is None or parts.month is None:
        return None
    hour = parts.hour
    if parts.pm is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if parts.pm else 0)
    if parts.second > 60:
        return None
    try:
        local = datetime(
            parts.year,
            parts.month,
            parts.day or 1,
            hour,
            parts.minute,
            min(parts.second, 59),  # a leap second is kept as :59
            tzinfo=parts.zone or UTC,
        )
        return local.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _resolve_date(parts: _Parts) -> bool:
    """Fill year, month and day from month names and loose numbers; False if ambiguous."""
    months = parts.month_words
    if len(months) > 1:
        # "mar., 01 déc. 2020": "mar" is Tuesday in French, the other word is the month.
        months = [item for item in months if item[0] not in _WEEKDAYS]
    if len(months) > 1:
        return False
    numbers = parts.numbers
    if parts.year is not None:  # an all-numeric date was found
        return not months and not numbers
    if months:
        parts.month = _MONTHS[months[0][0]]
        if len(numbers) == 1 and len(numbers[0]) == 4:  # "Nov. 2020"
            parts.year = int(numbers[0])
            return True
        if len(numbers) != 2:
            return False
        first, second = numbers
        if len(first) >= 3 or int(first) > 31:  # "2020 Nov 16" is unusual but unambiguous
            first, second = second, first
        parts.day, parts.year = int(first), _year(second)
        return True
    if len(numbers) == 3 and len(numbers[2]) in (2, 4):
        # "Sat, 11 04 2020": day, month, year in RFC 822 order.
        parts.day, parts.month, parts.year = int(numbers[0]), int(numbers[1]), _year(numbers[2])
        return True
    return False
