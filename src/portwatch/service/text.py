"""Patterns of the strings the API takes. Identifiers are short and plain; names and
free text refuse control characters: a NUL cannot be stored in PostgreSQL text at all
(the statement fails), and the others have no business in a name or a log."""

from __future__ import annotations

from portwatch.domain.fields import PORT_CODE  # the one definition, for the routes

ID = r"^[A-Za-z0-9._:-]{1,64}$"
"""A shipment, seal or party id (as ``portwatch.custody.registry`` enrolls them)."""
SHORT_ID = r"^[A-Za-z0-9._:-]{1,40}$"
"""An alert or decision id."""
PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"
"""A one-line name: no control characters (C0, DEL or C1, whose NEL breaks a line)."""
TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
"""Free text (comments, notes): tab, newline and carriage return allowed."""

__all__ = ["ID", "PORT_CODE", "PRINTABLE", "SHORT_ID", "TEXT"]
