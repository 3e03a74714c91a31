"""Names for addresses, and addresses for names: symbols from cc65's linker, as its users debug.

Two formats, told apart by content:

- VICE label files, as ``ld65 -Ln prog.lbl`` writes them: ``al 00023A ._main`` per line;
- ld65 debug info (``cl65 -g ... -Wl --dbgfile,prog.dbg``), a documented text format of
  ``kind id=0,name="...",...`` lines (cc65's ``src/dbginfo``; no maintained Python reader
  exists): its labels (``sym ... type=lab``), its scopes (the C functions, with their size),
  its C symbols (``csym``: ``main`` for ``_main``) and its line table, whose C lines map
  address spans to ``file.c:line``.

A location is a name (``_main``, or the C name ``main``), ``name+offset``, or with debug info
a C source line (``prog.c:12``: the first address of that line's code).  Linker symbols of
the form ``__NAME__`` (segment starts and sizes, some of them not addresses) are accepted as
names but never shown for an address.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path
from typing import NamedTuple

from recomp.runtime.errors import FileError
from recomp.runtime.user_files import read_file

MAX_SYMBOL_FILE = 1 << 24  # bytes: ld65's debug info for a full 64 KiB program is well under this
C_LINE = 1  # a debug-info line's type: C source (0 is assembler source, 2 a macro expansion)
_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,]*)')
_LOCATION = re.compile(r"^(?P<name>[^+\-:\s]+)(?:(?P<sign>[+-])(?P<offset>\S+))?$")


class SymbolError(ValueError):
    """A symbol file that cannot be read or understood, or a location that is no symbol."""


class SourceLine(NamedTuple):
    file: str  # as the compiler was given it
    line: int  # 1-based


class Function(NamedTuple):
    name: str  # as the linker knows it (``_main``)
    start: int
    size: int


class Symbols:
    """What one or more symbol files say: ``labels`` (name -> address), ``functions`` (from
    debug info: name, start and size), ``lines`` (C source lines by the address their code
    starts at, with where each span ends), and ``folders`` to look for source files in."""

    def __init__(self) -> None:
        self.labels: dict[str, int] = {}
        self.functions: list[Function] = []
        self._spans: list[tuple[int, int, SourceLine]] = []  # (start, end, line), sorted by start
        self._line_starts: dict[SourceLine, int] = {}  # a C line -> its first address
        self.folders: list[Path] = []
        self._names: dict[int, str] = {}  # address -> the name shown for it
        self._named: list[int] = []  # those addresses, sorted

    def __bool__(self) -> bool:
        return bool(self.labels or self.functions or self._spans)

    # --- reading -------------------------------------------------------------------------------
    def load(self, path: Path) -> None:
        """Add a VICE label file's or an ld65 debug info file's symbols (``SymbolError`` with one
        line saying why if it is neither)."""
        try:
            text = read_file(path, MAX_SYMBOL_FILE).decode("utf-8", "replace")
        except FileError as error:
            raise SymbolError(str(error)) from None
        if text.startswith("version\t") or text.startswith("version "):
            self._debug_info(text, path)
        elif re.match(r"\s*al\s", text):
            self._label_file(text, path)
        else:
            raise SymbolError(f"{path}: neither a VICE label file (ld65 -Ln) nor ld65 debug info (--dbgfile)")
        self.folders.append(path.resolve().parent)
        self._index()

    def _label_file(self, text: str, path: Path) -> None:
        for number, line in enumerate(text.splitlines(), 1):
            words = line.split()
            if not words:
                continue
            if len(words) != 3 or words[0] != "al":
                raise SymbolError(f"{path}: line {number}: expected 'al ADDRESS .NAME'")
            try:
                value = int(words[1].rpartition(":")[2], 16)  # (VICE also writes C:1234)
            except ValueError:
                raise SymbolError(f"{path}: line {number}: {words[1]!r} is not a hex address") from None
            self.labels[words[2].lstrip(".")] = value

    def _debug_info(self, text: str, path: Path) -> None:
        records: dict[str, dict[int, dict[str, str]]] = {}
        for number, line in enumerate(text.splitlines(), 1):
            kind, _, rest = line.partition("\t")
            fields = {key: value.strip('"') for key, value in _FIELD.findall(rest)}
            if "id" in fields:
                try:
                    records.setdefault(kind, {})[int(fields["id"])] = fields
                except ValueError:
                    raise SymbolError(f"{path}: line {number}: bad id {fields['id']!r}") from None
        try:
            segs = {i: int(r["start"], 0) for i, r in records.get("seg", {}).items()}
            spans = {i: (segs[int(r["seg"])] + int(r["start"], 0), int(r["size"], 0))
                     for i, r in records.get("span", {}).items()}
            syms = records.get("sym", {})
            for record in syms.values():
                if record.get("type") == "lab" and "val" in record:
                    self.labels[record["name"]] = int(record["val"], 0)
            for record in records.get("csym", {}).values():  # C names for their assembler labels
                sym = syms.get(int(record["sym"])) if "sym" in record else None
                if sym is not None and "val" in sym:
                    self.labels.setdefault(record["name"], int(sym["val"], 0))
            for record in records.get("scope", {}).values():
                if record.get("type") == "scope" and "span" in record:
                    starts = [spans[int(s)][0] for s in record["span"].split("+")]
                    self.functions.append(Function(record["name"], min(starts), int(record.get("size", "0"), 0)))
            files = {i: r["name"] for i, r in records.get("file", {}).items()}
            for record in records.get("line", {}).values():
                if int(record.get("type", "0")) != C_LINE or "span" not in record:
                    continue
                where = SourceLine(files[int(record["file"])], int(record["line"]))
                for span in record["span"].split("+"):
                    start, size = spans[int(span)]
                    self._spans.append((start, start + size, where))
        except (KeyError, ValueError) as error:
            raise SymbolError(f"{path}: not ld65 debug info as cc65 2.x writes it ({error})") from None

    def _index(self) -> None:
        self._spans.sort()
        self._line_starts = {}
        for start, _, where in self._spans:
            self._line_starts.setdefault(where, start)
        shown = [(addr, name) for name, addr in self.labels.items() if _rank(name) < LOCAL]
        shown += [(function.start, function.name) for function in self.functions]
        self._names = {}
        for addr, name in sorted(shown, key=lambda item: (_rank(item[1]), item[1]), reverse=True):
            self._names[addr] = name  # (the best ranked last, so kept)
        self._named = sorted(self._names)

    # --- names to addresses ---------------------------------------------------------------------
    def find(self, text: str) -> int | None:
        """The address of a location (see the module's docstring), or None if it names nothing
        known; ``SymbolError`` if it names something but its offset is not a number."""
        if ":" in text and text.rpartition(":")[2].isdigit():
            return self.line_address(text)
        match = _LOCATION.match(text.strip())
        if match is None:
            return None
        base = self._name(match["name"])
        if base is None:
            return None
        if match["sign"] is None:
            return base
        from recomp.runtime.addresses import AddressError, parse_address

        try:
            offset = parse_address(match["offset"])
        except AddressError:
            raise SymbolError(f"{text}: the offset {match['offset']!r} is not a number") from None
        return base + offset if match["sign"] == "+" else base - offset

    def _name(self, name: str) -> int | None:
        for candidate in (name, f"_{name}"):  # (a C name, for cc65's _name)
            if candidate in self.labels:
                return self.labels[candidate]
        return None

    def line_address(self, text: str) -> int | None:
        """The first address of the code of C line ``file.c:N`` (a file named by its path as
        compiled, or by its last part)."""
        name, _, number = text.rpartition(":")
        line = int(number)
        for where, start in self._line_starts.items():
            if where.line == line and (where.file == name or Path(where.file).name == name):
                return start
        return None

    # --- addresses to names ---------------------------------------------------------------------
    def describe(self, addr: int) -> str | None:
        """``name`` or ``name+N`` for an address: its C function's (from debug info), else the
        nearest name at or before it within 256 bytes (not a compiler's local label, nor a
        segment symbol); None if there is none."""
        function = self.function_at(addr)
        if function is not None:
            start, name = function.start, function.name
        else:
            at = bisect.bisect_right(self._named, addr) - 1
            if at < 0 or addr - self._named[at] > 0xFF:
                return None
            start = self._named[at]
            name = self._names[start]
        return name if addr == start else f"{name}+{addr - start}"

    def function_at(self, addr: int) -> Function | None:
        found = [f for f in self.functions if f.start <= addr < f.start + max(f.size, 1)]
        return min(found, key=lambda f: f.size) if found else None

    def line_at(self, addr: int) -> SourceLine | None:
        """The C source line whose code holds ``addr``."""
        at = bisect.bisect_right(self._spans, (addr, 1 << 32)) - 1
        while at >= 0:
            start, end, where = self._spans[at]
            if start <= addr < end:
                return where
            if end <= addr - 0x1000:  # (spans are short; none this far back holds it)
                break
            at -= 1
        return None

    def line_starts_at(self, addr: int) -> bool:
        """Whether ``addr`` is the first address of a C line's code."""
        where = self.line_at(addr)
        return where is not None and any(start == addr for start, _, w in self._spans if w == where)

    def source(self, where: SourceLine) -> list[str] | None:
        """The lines of a source file, looked for beside the symbol files and in the working
        directory; None if it is not found."""
        for folder in (*self.folders, Path.cwd()):
            path = folder / where.file
            if path.is_file():
                try:
                    return read_file(path, MAX_SYMBOL_FILE).decode("utf-8", "replace").splitlines()
                except FileError:
                    return None
        return None

    def source_line(self, addr: int) -> str | None:
        """``prog.c:12: total += square(i);`` for the C line holding ``addr``, if known."""
        where = self.line_at(addr)
        if where is None:
            return None
        lines = self.source(where)
        text = lines[where.line - 1].strip() if lines is not None and 0 < where.line <= len(lines) else ""
        return f"{where.file}:{where.line}: {text}".rstrip(": ") if text else f"{where.file}:{where.line}"


LOCAL = 2  # the rank of names never shown for an address


def _rank(name: str) -> int:
    """Which of several names for one address to show: a C function's first (``_main``); never
    ld65's segment symbols (``__BSS_SIZE__``: sizes and starts, not places in code) nor the
    compiler's local labels (``L0006``, ``@L1``)."""
    if (name.startswith("__") and name.endswith("__")) or re.fullmatch(r"@?L[0-9A-F]{4}|@\w+", name):
        return LOCAL
    return 0 if name.startswith("_") else 1


def load_symbols(paths: list[Path]) -> Symbols:
    symbols = Symbols()
    for path in paths:
        symbols.load(path)
    return symbols
