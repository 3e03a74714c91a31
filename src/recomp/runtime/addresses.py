"""Guest addresses as 6502 users write them: ``$C000``, ``0xC000`` or decimal ``49152``,
accepted the same way everywhere (the CLI, the API, the monitor)."""

from __future__ import annotations

Address = int | str  # what the API accepts wherever it takes an address


class AddressError(ValueError):
    """Text that is not an address."""


def parse_address(text: str) -> int:
    """``$C000``, ``0xC000`` (also ``0XC000``) or decimal: the integer; else ``AddressError``."""
    body = text.strip().replace("_", "")
    base = 10
    if body[:1] == "$":
        body, base = body[1:], 16
    elif body[:2].lower() == "0x":
        body, base = body[2:], 16
    try:
        if not body or not body.isascii() or not body.isalnum():  # (int() also reads Arabic-Indic and fullwidth digits)
            raise ValueError
        return int(body, base)
    except ValueError:
        raise AddressError(f"{text!r} is not an address ($C000, 0xC000 or decimal)") from None


def address(value: Address) -> int:
    """An address given as an int or as text."""
    return parse_address(value) if isinstance(value, str) else int(value)
