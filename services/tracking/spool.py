"""The click spool: files where every acknowledged click is kept until it is stored.

The redirect appends each click to its process's current segment with one unbuffered
`os.write` before it answers, so the kernel holds the click even if the process is killed
the next instant. The recorder seals the segment when it copies its clicks into the
database and deletes it once they are stored; a segment whose clicks could not be stored
stays on disk and is replayed later. Each process holds an exclusive `flock` on its
segments, so a starting process replays exactly the files that no live process holds.

A segment is JSON lines: `[id, deal_id, clicked_at, visitor, user_agent, referrer]`. A line
cut short (a full disk) is skipped when the segment is read.
"""

import fcntl
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID

import msgspec

Click = tuple[UUID, UUID, datetime, str, str | None, str | None]
SUFFIX = ".clicks"
READ_BYTES = 1 << 20

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Click).decode


@dataclass(slots=True)
class Segment:
    """One spool file held (locked) by this process, and how many clicks were appended."""

    path: Path
    fd: int
    clicks: int = 0


class ClickSpool:
    """The segments of one process in `folder`: the one clicks are appended to, sealed ones
    waiting to be stored, and those of stopped processes found at start."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder  # made at the first click, so a folder it may not write fails
        # the clicks it should keep (loudly), not the process
        self._name = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._sequence = 0
        self.current: Segment | None = None  # opened at the first click after a seal

    def append(self, click: Click) -> None:
        """Keep `click` in the current segment; raises OSError if the disk refuses it."""
        segment = self.current or self._open()
        record = _encode(click) + b"\n"
        if os.write(segment.fd, record) != len(record):
            raise OSError("the click spool took only part of a click (is the disk full?)")
        segment.clicks += 1

    def seal(self) -> Segment | None:
        """The current segment, closed to new clicks (the next click opens another)."""
        sealed, self.current = self.current, None
        return sealed

    def remove(self, segment: Segment) -> None:
        """Delete a segment whose clicks are stored: unlinked while still locked, so no other
        process can claim it in between."""
        segment.path.unlink(missing_ok=True)
        os.close(segment.fd)

    def release(self, segment: Segment) -> None:
        """Let go of a segment whose clicks are not stored: any process may replay it."""
        if segment.clicks == 0 and segment.path.stat().st_size == 0:
            segment.path.unlink(missing_ok=True)
        os.close(segment.fd)

    def close(self) -> None:
        if self.current is not None:
            self.release(self.current)
            self.current = None

    def orphans(self) -> list[Segment]:
        """Segments no live process holds (their process stopped or died), now held by this
        one; oldest first."""
        found: list[Segment] = []
        if not self.folder.is_dir():
            return found
        for path in sorted(self.folder.glob(f"*{SUFFIX}"), key=_age):
            segment = _claim(path)
            if segment is not None:
                found.append(segment)
        return found

    def read(self, segment: Segment, batch: int = 5_000) -> Iterator[tuple[list[Click], int]]:
        """The segment's clicks, `batch` at a time, with the count of unreadable lines."""
        offset, rest, clicks, bad = 0, b"", [], 0
        while chunk := os.pread(segment.fd, READ_BYTES, offset):
            offset += len(chunk)
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                try:
                    clicks.append(_decode(line))
                except msgspec.DecodeError:
                    bad += 1
                if len(clicks) >= batch:
                    yield clicks, bad
                    clicks, bad = [], 0
        if rest:
            bad += 1  # a line without its end: the write was cut short
        if clicks or bad:
            yield clicks, bad

    def _open(self) -> Segment:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._sequence += 1
        path = self.folder / f"{self._name}-{self._sequence:08d}{SUFFIX}"
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        fd = os.open(path, flags, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.current = Segment(path, fd)
        return self.current


def _age(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _claim(path: Path) -> Segment | None:
    """Lock a segment if no process holds it and it still exists."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(fd).st_nlink == 0:  # stored and deleted by its process meanwhile
            raise BlockingIOError
    except BlockingIOError:
        os.close(fd)
        return None
    return Segment(path, fd, clicks=-1)
