"""The event log's anchor outside the database: a key file and a checkpoint file.

With an anchor, every record's chained hash is an HMAC-SHA256 under a 32-byte key kept
in a file the database does not hold, so nobody with only write access to the database
can edit, insert or delete a record and recompute the chain; and after every committed
append the head (last id and hash) is written to an append-only checkpoint file, one
line each, itself authenticated by the same key, so truncating the chain (or rolling
the whole database back to an older copy) leaves the head behind the last checkpoint.

A checkpoint line: ``{"keyed_from": 1, "last_hash": "...", "last_id": 42, "mac": "..."}``
where ``mac = HMAC-SHA256(key, "last_id|last_hash|keyed_from")`` and ``keyed_from`` is
the first record hashed under the key (records before it, written before the anchor
existed, keep their plain SHA-256).

The head of a parallel chain (``portwatch.store.streams``) is checkpointed the same
way, on a line that also names its stream: ``{"keyed_from": 1, "last_hash": "...",
"last_id": 7, "mac": "...", "stream": 3}`` with ``mac = HMAC-SHA256(key,
"s3|last_id|last_hash|keyed_from")``, so a stream's line cannot pass for the event
log's nor for another stream's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from portwatch.domain.errors import StoreError

KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One anchored head of the log."""

    last_id: int
    last_hash: str
    keyed_from: int
    stream: int = 0
    """0: the event log; 1 and above: that stream of ``portwatch.store.streams``."""

    def mac_text(self) -> str:
        text = f"{self.last_id}|{self.last_hash}|{self.keyed_from}"
        return text if self.stream == 0 else f"s{self.stream}|{text}"


class Anchor:
    """The key file and checkpoint file of one database's event log."""

    def __init__(self, key_path: Path, checkpoint_path: Path) -> None:
        self.key_path = Path(key_path)
        self.checkpoint_path = Path(checkpoint_path)
        self._key: bytes | None = None
        self._keyed_from: int | None = None
        self._stream_keyed: dict[int, int] | None = None

    @classmethod
    def beside(cls, db_path: Path, directory: Path | None = None) -> Anchor:
        """The default anchor of a SQLite file: ``NAME.anchor-key`` and
        ``NAME.anchor.jsonl`` in ``directory`` (default: the database's folder; keep it
        on another volume or host in production)."""
        folder = directory if directory is not None else db_path.parent
        return cls(folder / f"{db_path.name}.anchor-key", folder / f"{db_path.name}.anchor.jsonl")

    @property
    def exists(self) -> bool:
        return self.key_path.exists()

    def key(self, create: bool = False) -> bytes | None:
        """The key; created (readable by its owner only) when ``create`` and missing."""
        if self._key is not None:
            return self._key
        if not self.key_path.exists():
            if not create:
                return None
            seed = secrets.token_bytes(KEY_BYTES)
            try:
                fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return self.key(create=False)
            except OSError as exc:
                raise StoreError(f"anchor key {self.key_path}: cannot create "
                                 f"({exc.strerror})") from exc
            with os.fdopen(fd, "w") as handle:
                handle.write(base64.b64encode(seed).decode() + "\n")
        try:
            raw = base64.b64decode(self.key_path.read_text().strip(), validate=True)
        except (OSError, binascii.Error, ValueError) as exc:
            raise StoreError(f"anchor key {self.key_path}: unreadable") from exc
        if len(raw) != KEY_BYTES:
            raise StoreError(f"anchor key {self.key_path}: must hold {KEY_BYTES} bytes")
        self._key = raw
        return raw

    def mac(self, text: str) -> str:
        key = self.key()
        if key is None:
            raise StoreError(f"anchor key {self.key_path}: missing")
        return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def write(self, cp: Checkpoint) -> None:
        """Append a checkpoint (one line, one write: concurrent writers interleave
        whole lines)."""
        self.write_many([cp])

    def write_many(self, cps: list[Checkpoint]) -> None:
        """Append several checkpoints in one write (the heads one commit left)."""
        lines = []
        for cp in cps:
            body: dict[str, object] = {"keyed_from": cp.keyed_from, "last_hash": cp.last_hash,
                                       "last_id": cp.last_id, "mac": self.mac(cp.mac_text())}
            if cp.stream:
                body["stream"] = cp.stream
            lines.append(json.dumps(body, sort_keys=True) + "\n")
        line = "".join(lines).encode()
        try:
            fd = os.open(self.checkpoint_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        except OSError as exc:
            raise StoreError(f"anchor {self.checkpoint_path}: cannot write "
                             f"({exc.strerror})") from exc

    def checkpoints(self) -> tuple[list[Checkpoint], list[str]]:
        """Every authentic checkpoint (of the event log and of every stream), and a
        problem line for every line that is not."""
        if not self.checkpoint_path.exists():
            return [], []
        good: list[Checkpoint] = []
        bad: list[str] = []
        try:
            text = self.checkpoint_path.read_text(errors="replace")
        except OSError as exc:
            return [], [f"anchor {self.checkpoint_path}: unreadable ({exc.strerror})"]
        for n, line in enumerate(text.splitlines(), start=1):
            cp = self._parse(line)
            if cp is not None:
                good.append(cp)
            else:
                bad.append(f"anchor {self.checkpoint_path.name} line {n}: not authentic")
        return good, bad

    def _parse(self, line: str) -> Checkpoint | None:
        try:
            d = json.loads(line)
            cp = Checkpoint(int(d["last_id"]), str(d["last_hash"]), int(d["keyed_from"]),
                            int(d.get("stream", 0)))
            ok = hmac.compare_digest(self.mac(cp.mac_text()), str(d["mac"]))
        except (ValueError, KeyError, TypeError):
            return None
        return cp if ok else None

    def latest(self, tail_bytes: int = 1 << 16) -> Checkpoint | None:
        """The event log's authentic checkpoint with the highest record id among the
        file's last ``tail_bytes`` (the newest lines; concurrent writers may interleave
        a few)."""
        if not self.checkpoint_path.exists():
            return None
        with self.checkpoint_path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - tail_bytes))
            text = handle.read().decode(errors="replace")
        lines = text.splitlines()[1:] if size > tail_bytes else text.splitlines()
        found = [cp for cp in map(self._parse, lines) if cp is not None and cp.stream == 0]
        return max(found, key=lambda c: c.last_id, default=None)

    def keyed_from(self) -> int | None:
        """The first record hashed under the key (from the first checkpoint)."""
        if self._keyed_from is not None or not self.checkpoint_path.exists():
            return self._keyed_from
        with self.checkpoint_path.open(errors="replace") as handle:
            for line in handle:
                cp = self._parse(line)
                if cp is not None and cp.stream == 0:
                    self._keyed_from = cp.keyed_from
                    break
        return self._keyed_from

    def stream_keyed_from(self, fresh: bool = False) -> dict[int, int]:
        """Per stream, the first record hashed under the key (from the stream's first
        checkpoint); a stream with no checkpoint yet is absent. ``fresh``: read the
        file again (an audit), not this process's memory of it."""
        if self._stream_keyed is None or fresh:
            found: dict[int, int] = {}
            for cp in self.checkpoints()[0]:
                if cp.stream and cp.stream not in found:
                    found[cp.stream] = cp.keyed_from
            self._stream_keyed = found
        return dict(self._stream_keyed)

    def note_stream_keyed_from(self, stream: int, keyed_from: int) -> None:
        """Remember a stream's first keyed record once its first checkpoint is written."""
        if self._stream_keyed is not None:
            self._stream_keyed.setdefault(stream, keyed_from)


__all__ = ["Anchor", "Checkpoint"]
