"""Reading a spreadsheet of posts: bytes in, one :class:`RowInput` per record out.

The columns are named by a header row, in any order and any case: ``text`` (the only
one required), ``account``, ``at``, ``tz``, ``media``, ``media_url``, ``alt_text``,
``voice``, ``repeat`` and ``follow_up_1``, ``follow_up_2``, … Lists inside a cell
(media files, links, alt texts) are separated by ``|``.

Spreadsheets write CSV in several ways, and each is read as it comes:

- UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8" has one), UTF-16 with
  one (Excel's "Unicode Text"); anything else is refused with what to do about it;
- a comma, semicolon (Excel where the decimal mark is a comma) or tab delimiter,
  decided from the header line, which must name the columns: ``csv.Sniffer`` guesses
  from the data and is thrown by a text full of commas;
- Excel's optional first line ``sep=;``;
- quoted cells holding the delimiter, doubled quotes and line breaks.

Row numbers are the spreadsheet's: the header is row 1, and a cell with line breaks
in it is still one row, so records are counted, not lines.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from milton_desktop.domain.errors import UserError

#: the columns a file may have, besides ``follow_up_N``
COLUMNS = ("text", "account", "at", "tz", "media", "media_url", "alt_text", "voice", "repeat")
#: how lists are written inside one cell
LIST_SEPARATOR = "|"
DELIMITERS = (",", ";", "\t")
_FOLLOW_UP_RE = re.compile(r"^follow_up_(\d{1,3})$")
_SEP_LINE_RE = re.compile(r'^"?sep=(.)"?\s*$', re.IGNORECASE)
_SAVE_AS = "save it again as “CSV UTF-8 (Comma delimited)” (Excel: File ▸ Save As)"


class CsvError(UserError):
    """A file that cannot be read as a table of posts; the message says what to do."""


@dataclass(frozen=True)
class RowInput:
    """One record of the file, as written: every cell a string, lists split."""

    #: the spreadsheet's row number (the header is row 1)
    row: int
    text: str
    account: str = ""
    at: str = ""
    tz: str = ""
    media: tuple[str, ...] = ()
    media_url: tuple[str, ...] = ()
    alt_text: tuple[str, ...] = ()
    voice: str = ""
    repeat: str = ""
    follow_ups: tuple[str, ...] = ()
    #: what is wrong with the row's shape (a follow-up after an empty one, cells past
    #: the header): checked with everything else, so every bad row is listed at once
    problems: tuple[str, ...] = ()


def decode(data: bytes) -> str:
    """The file's text.

    Raises:
        CsvError: it is not UTF-8 (nor UTF-16 with a byte-order mark), e.g. an old
            Excel's "CSV" in the computer's code page; the message says how to save it.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise CsvError(f"the file is damaged UTF-16 text: {_SAVE_AS}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start : exc.start + 1].hex().upper()
        raise CsvError(
            f"the file is not UTF-8 text (byte 0x{byte} on line {line}; it was probably saved "
            f"as “CSV” in the computer's own encoding, such as Windows-1252): {_SAVE_AS}"
        ) from None


def _first_line(text: str) -> str:
    """The text up to the first line break outside quotes (a header cell may be quoted)."""
    quoted = False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch in "\r\n" and not quoted:
            return text[:i]
    return text


def _known(name: str) -> bool:
    return name in COLUMNS or _FOLLOW_UP_RE.match(name) is not None


def _cells(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def detect_delimiter(header: str) -> str:
    """The delimiter that splits ``header`` into the most known column names (ties:
    the most cells, then comma before semicolon before tab)."""

    def score(delimiter: str) -> tuple[int, int]:
        names = [c.strip().lower() for c in _cells(header, delimiter)]
        return sum(_known(n) for n in names), len(names)

    return max(DELIMITERS, key=lambda d: (score(d), -DELIMITERS.index(d)))


@dataclass(frozen=True)
class Table:
    """The header's columns and the records under it."""

    delimiter: str
    #: each header cell's column name, lower case ("" for an empty cell)
    columns: tuple[str, ...]
    #: (row number, cells) of every record after the header, blank ones left out
    records: tuple[tuple[int, tuple[str, ...]], ...]


def read_table(text: str) -> Table:
    """Split the text into a header and records.

    Raises:
        CsvError: the file is empty, its header names no ``text`` column, names one
            twice, or names a column that does not exist (a typo would otherwise be
            dropped without a word).
    """
    first = _first_line(text)
    sep = _SEP_LINE_RE.match(first)
    if sep is not None and sep.group(1) in DELIMITERS:
        delimiter = sep.group(1)
        text = text[len(first) :].lstrip("\r\n")
        first = _first_line(text)
    else:
        delimiter = detect_delimiter(first)
    if not text.strip():
        raise CsvError(
            "the file is empty: its first row must name the columns, e.g. text,account,at"
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise CsvError(f"row 1 cannot be read as CSV ({exc})") from None
    columns = tuple(c.strip().lower().replace(" ", "_").replace("-", "_") for c in header)
    _check_header(columns)
    records: list[tuple[int, tuple[str, ...]]] = []
    number = 1
    try:
        for cells in reader:
            number += 1
            if any(c.strip() for c in cells):
                records.append((number, tuple(cells)))
    except csv.Error as exc:
        raise CsvError(f"row {number + 1} cannot be read as CSV ({exc})") from None
    return Table(delimiter, columns, tuple(records))


def _check_header(columns: Sequence[str]) -> None:
    named = [c for c in columns if c]
    unknown = [c for c in named if not _known(c)]
    if "text" not in named:
        found = ", ".join(repr(c) for c in named[:6]) or "nothing"
        raise CsvError(
            f"row 1 must name the columns and one of them must be “text” (found {found}); "
            f"the columns are {', '.join(COLUMNS)}, follow_up_1, follow_up_2, …"
        )
    if unknown:
        raise CsvError(
            f"row 1 names unknown column{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(c) for c in unknown)}: the columns are {', '.join(COLUMNS)}, "
            "follow_up_1, follow_up_2, … (any order, any case); rename or remove it"
        )
    twice = sorted({c for c in named if named.count(c) > 1})
    if twice:
        raise CsvError(f"row 1 names the column {twice[0]!r} twice: keep one")


def _split(cell: str) -> tuple[str, ...]:
    """A ``|`` list; empty items in the middle are kept (an image with no alt text)."""
    if not cell.strip():
        return ()
    return tuple(item.strip() for item in cell.split(LIST_SEPARATOR))


def _cell_text(cell: str) -> str:
    # a spreadsheet writes a line break inside a cell as CRLF or LF: posts use LF
    return cell.replace("\r\n", "\n").replace("\r", "\n")


def rows(table: Table) -> Iterator[RowInput]:
    """Each record as a :class:`RowInput`."""
    follow_cols = sorted(
        (int(m.group(1)), i)
        for i, c in enumerate(table.columns)
        if (m := _FOLLOW_UP_RE.match(c)) is not None
    )
    index = {c: i for i, c in enumerate(table.columns) if c in COLUMNS}
    width = len(table.columns)
    for number, cells in table.records:
        problems: list[str] = []
        extra = [c for c in cells[width:] if c.strip()]
        extra += [c for i, c in enumerate(cells[:width]) if not table.columns[i] and c.strip()]
        if extra:
            problems.append(
                f"it has {len(extra)} cell{'s' if len(extra) > 1 else ''} under no column "
                f"(first: {extra[0][:30]!r}): a delimiter inside a text needs the cell in quotes"
            )

        def cell(name: str, cells: tuple[str, ...] = cells) -> str:
            i = index.get(name)
            return cells[i] if i is not None and i < len(cells) else ""

        follow_ups: list[str] = []
        gap: int | None = None
        for n, i in follow_cols:
            value = _cell_text(cells[i]) if i < len(cells) else ""
            if not value.strip():
                gap = gap or n
                continue
            if gap is not None:
                problems.append(
                    f"follow_up_{n} has text but follow_up_{gap} is empty: fill it or move the text up"
                )
                break
            follow_ups.append(value)
        yield RowInput(
            row=number,
            text=_cell_text(cell("text")),
            account=cell("account").strip(),
            at=cell("at").strip(),
            tz=cell("tz").strip(),
            media=tuple(m for m in _split(cell("media")) if m),
            media_url=tuple(u for u in _split(cell("media_url")) if u),
            alt_text=_split(cell("alt_text")) if cell("alt_text").strip() else (),
            voice=cell("voice").strip().lower(),
            repeat=cell("repeat").strip(),
            follow_ups=tuple(follow_ups),
            problems=tuple(problems),
        )


def read_rows(data: bytes) -> tuple[Table, list[RowInput]]:
    """Decode, split and read every record of a file's bytes."""
    table = read_table(decode(data))
    return table, list(rows(table))
