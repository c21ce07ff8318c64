"""``apertium-tagger`` for NUL-separated segments, restarted whenever its state was changed.

Run by the Apertium engine's pipeline in place of ``apertium-tagger`` (as a script, with the
tagger's own arguments; it imports nothing from the project). Apertium 3.8's HMM tagger keeps one
piece of state across null flushes: a word whose ambiguity class it was not trained on makes
``find_similar_ambiguity_class`` overwrite the tagger's open class (it assigns through a
reference), which changes how later words are tagged for the rest of the process. The tagger
reports such a word on stderr with ``-d``; after a segment that had one, this wrapper starts a
fresh tagger, so every segment is tagged as it would be alone, and the pipeline still loads the
dictionaries and grammars once per batch. Starting the tagger costs about 10 ms; most segments
never need it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import IO

CHANGED = b"ambiguity class"
"""What the tagger's debug output says when it meets a class it was not trained on."""


def _segments(fd: int) -> Iterator[bytes]:
    pending = b""
    while True:
        data = os.read(fd, 65536)
        if not data:
            if pending:
                yield pending
            return
        pending += data
        while b"\0" in pending:
            segment, _, pending = pending.partition(b"\0")
            yield segment


class _Tagger:
    def __init__(self, args: list[str], log: IO[bytes]) -> None:
        self.process = subprocess.Popen(
            ["apertium-tagger", "-d", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
        )

    def tag(self, segment: bytes) -> bytes:
        """One segment in, its tagged form out (up to the tagger's NUL)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        stdin, stdout = self.process.stdin, self.process.stdout

        def feed() -> None:  # in a thread: a long segment must not block on a full pipe
            try:
                stdin.write(segment + b"\0")
                stdin.flush()
            except BrokenPipeError:
                pass

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        result = b""
        while b"\0" not in result:
            data = os.read(stdout.fileno(), 65536)
            if not data:
                break
            result += data
        writer.join()
        return result.partition(b"\0")[0]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait()


def main(args: list[str]) -> int:
    out = sys.stdout.buffer
    with tempfile.TemporaryFile() as log:
        tagger = _Tagger(args, log)
        for segment in _segments(sys.stdin.fileno()):
            seen = os.lseek(log.fileno(), 0, os.SEEK_END)
            out.write(tagger.tag(segment) + b"\0")
            out.flush()
            # The tagger writes its warnings before it flushes the segment: they are all there.
            log.seek(seen)
            if CHANGED in log.read():
                tagger.close()
                tagger = _Tagger(args, log)
        tagger.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
