"""Apertium: rule-based, offline da→nb, da→nn, da→sv (and back), one process per batch.

Every segment of a batch goes through one ``apertium -f none -z <mode>`` process, each segment
translated as if it were alone. Apertium's own HTML deformatter cannot give that: it appends a
hidden "." to every block, so a segment that already ends in "." reaches the analyser as "..",
which dan-nob's constraint grammar does not take as a sentence boundary, and disambiguation reads
across into the next segment ("De bor der." came back "De borene det."). Instead this module
deformats each segment itself, into Apertium's stream format exactly as ``apertium-deshtml`` would
(placeholders and character references become superblanks that carry the spaces around them; a
hidden period ends the segment), and ends every segment with a NUL. In null-flush mode (``-z``)
every program of the pipeline flushes and resets at a NUL, so no state (constraint-grammar
window, transfer buffer) crosses from one segment into the next; the one program that keeps
state anyway, Apertium 3.8's HMM tagger, is restarted per segment inside the same pipeline
(``_isolating_datadir``). Each segment
also carries its number in a leading superblank; the output must hold exactly the numbers sent,
in order, or the batch fails rather than misalign translations.

Placeholders travel as formatting (superblanks); when a transfer rule joins the first word of a
``<g>`` span to the word before it, Apertium emits the opening placeholder one word late, which
``_reattach`` undoes. Word-bound blanks (``[[…]]``) were measured as the alternative and lost or
shrank more spans on dan-nob/dan-nno, so they are not used.

Apertium marks words it could not handle: ``*`` unknown to the analyser, ``#`` a generation
error, ``@`` no entry in the bilingual dictionary. To tell those marks from the same characters in
the text, literal ``*``, ``#`` and ``@`` are sent as character references, which Apertium treats
as formatting and leaves alone.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from syndication.errors import (
    ConfigError,
    EngineUnavailableError,
    TransientTranslationError,
    TranslationError,
)
from syndication.models import EngineOutput, QAFlag
from syndication.segments.markup import Token, canonical, plain_text, tokenize

# ISO 639-3 (Apertium's mode names) → BCP 47. Codes without a two-letter form stay as they are.
_BCP47 = {
    "afr": "af", "ara": "ar", "arg": "an", "bel": "be", "bre": "br", "bul": "bg",
    "cat": "ca", "ces": "cs", "cym": "cy", "dan": "da", "deu": "de", "ell": "el", "eng": "en",
    "epo": "eo", "est": "et", "eus": "eu", "fao": "fo", "fin": "fi", "fra": "fr", "gle": "ga",
    "glg": "gl", "hin": "hi", "isl": "is", "ita": "it", "kaz": "kk", "lat": "la",
    "lav": "lv", "lit": "lt", "mkd": "mk", "mlt": "mt", "nld": "nl", "nno": "nn", "nob": "nb",
    "oci": "oc", "pol": "pl", "por": "pt", "ron": "ro", "rus": "ru", "slk": "sk", "slv": "sl",
    "spa": "es", "sqi": "sq", "srd": "sc", "swe": "sv", "tat": "tt", "tur": "tr", "ukr": "uk",
    "urd": "ur",
}  # fmt: skip
_DEBIAN_PACKAGES = {
    frozenset({"da", "nb"}): "apertium-dan-nor",
    frozenset({"da", "nn"}): "apertium-dan-nor",
    frozenset({"da", "sv"}): "apertium-swe-dan",
}
_MODE_RE = re.compile(r"^\s*([a-z]{2,3})-([a-z]{2,3})\s*$")
# A mark is a bare *, # or @ (literal ones were sent as &#42; &#35; &#64;) before a word.
_MARK_RE = re.compile(r"(?<!&)([*#@])([^\s<>&*#@]*)")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LAST_WORD_RE = re.compile(r"(?s)^(|.*\s)(\S+)(\s+)$")
_WORD_EDGE = ".,;:!?()[]{}\"'«»“”‘’…-–—"
_MARK_MEANING = {"*": "unknown", "#": "could not generate", "@": "no translation for"}


class ApertiumEngine:
    """The ``apertium`` engine. Config: ``binary`` (path), ``timeout`` (s), ``mark_unknown``."""

    name = "apertium"

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        config = dict(config or {})
        binary = config.get("binary", "apertium")
        timeout = config.get("timeout", 300)
        mark_unknown = config.get("mark_unknown", True)
        if not isinstance(binary, str | os.PathLike) or not str(binary):
            raise ConfigError(f"apertium engine: 'binary' must be a path, not {binary!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigError(f"apertium engine: 'timeout' must be a positive number, not {timeout!r}")
        if not isinstance(mark_unknown, bool):
            raise ConfigError(f"apertium engine: 'mark_unknown' must be true or false, not {mark_unknown!r}")
        self.binary = str(binary)
        self.timeout = float(timeout)
        self.mark_unknown = mark_unknown
        self._modes: dict[tuple[str, str], str] | None = None
        self._versions: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ApertiumEngine(binary={self.binary!r})"

    # ------------------------------------------------------------------ pairs and versions

    def pairs(self) -> set[tuple[str, str]]:
        return set(self._installed_modes())

    def version(self, source: str, target: str) -> str:
        """``apertium-dan-nor 1.5.0-2``: the Debian package holding the pair's data, cached."""
        key = (source.lower(), target.lower())
        with self._lock:
            if key in self._versions:
                return self._versions[key]
        mode = self._mode(source, target)
        version = _package_version(mode, _DEBIAN_PACKAGES.get(frozenset(key)))
        with self._lock:
            self._versions[key] = version
        return version

    def _installed_modes(self, *, refresh: bool = False) -> dict[tuple[str, str], str]:
        with self._lock:
            if self._modes is not None and not refresh:
                return self._modes
        listing = self._call([self.binary, "-l"], b"", timeout=30, what="listing pairs")
        modes: dict[tuple[str, str], str] = {}
        for line in listing.decode("utf-8", "replace").splitlines():
            match = _MODE_RE.match(line)
            if match:
                pair = (
                    _BCP47.get(match.group(1), match.group(1)),
                    _BCP47.get(match.group(2), match.group(2)),
                )
                modes[pair] = f"{match.group(1)}-{match.group(2)}"
        with self._lock:
            self._modes = modes
        return modes

    def _mode(self, source: str, target: str) -> str:
        pair = (source.lower(), target.lower())
        mode = self._installed_modes().get(pair) or self._installed_modes(refresh=True).get(pair)
        if mode is None:
            raise EngineUnavailableError(_install_hint(*pair), lang=target)
        return mode

    # ------------------------------------------------------------------ translation

    def translate(self, texts: Sequence[str], *, source: str, target: str) -> list[EngineOutput]:
        """Translate segment markup; one ``apertium`` process for the whole batch."""
        if isinstance(texts, str):
            raise TranslationError("apertium engine: translate() takes a sequence of texts, not one str")
        outputs: list[EngineOutput | None] = [None] * len(texts)
        unique: dict[str, int] = {}  # stripped text → position in the batch sent
        pending: list[tuple[int, str, str, str]] = []  # (index, leading ws, text, trailing ws)
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise TranslationError(f"apertium engine: text {index} is {type(text).__name__}, not str")
            body = text.strip()
            if not body:
                outputs[index] = EngineOutput(text)
                continue
            unique.setdefault(body, len(unique))
            pending.append((index, text[: len(text) - len(text.lstrip())], body, text[len(text.rstrip()) :]))
        if pending:
            mode = self._mode(source, target)
            translated = self._run(mode, list(unique), target)
            for index, lead, body, trail in pending:
                text, flags, confidence = translated[unique[body]]
                # Without marks (``mark_unknown = false``) there is nothing to judge by.
                outputs[index] = EngineOutput(
                    lead + text + trail, flags, confidence if self.mark_unknown else None
                )
        return [output if output is not None else EngineOutput("") for output in outputs]

    def _run(self, mode: str, bodies: list[str], target: str) -> list[tuple[str, tuple[QAFlag, ...], float]]:
        stream = "".join(_deformat(n, body) for n, body in enumerate(bodies))
        datadir = _isolating_datadir(mode)
        command = [
            self.binary,
            *([] if datadir is None else ["-d", str(datadir)]),
            *["-f", "none", "-z"],
            *([] if self.mark_unknown else ["-u"]),
            mode,
        ]
        raw = self._call(command, stream.encode("utf-8"), timeout=self.timeout, what=mode, lang=target)
        output = raw.decode("utf-8", "replace")
        found = [_reformat(chunk) for chunk in output.split("\0") if chunk.strip()]
        numbers = [number for number, _ in found]
        if numbers != list(range(len(bodies))):
            raise TransientTranslationError(
                f"apertium {mode} returned {len(found)} segments for {len(bodies)} sent; "
                f"output begins {output[:200]!r}",
                lang=target,
            )
        finished = [_finish(text, body, mode) for (_, text), body in zip(found, bodies, strict=True)]
        foreign = self._foreign_words(mode, [(text, marked) for text, _, _, marked in finished], bodies)
        results = []
        for n, ((text, flags, marks, _), body) in enumerate(zip(finished, bodies, strict=True)):
            confidence = confidence_from_marks(
                _word_count(body),
                unknown=marks["*"],
                generation=marks["#"],
                untranslated=marks["@"],
                foreign=foreign[n] if foreign is not None else 0,
            )
            results.append((text, flags, confidence))
        return results

    def _foreign_words(
        self, mode: str, texts: list[tuple[str, set[str]]], sources: list[str]
    ) -> list[int] | None:
        """Per text, how many of its words the target language's own analyser does not know
        (Danish left as it was, "drikkevand" in Swedish), names from the source and words Apertium
        marked itself excepted: one
        ``lt-proc`` process for the batch, with the analyser of the reverse pair. ``None`` when
        that analyser is not installed or fails; the confidence then rests on the marks alone."""
        analyser = _target_analyser(mode)
        lt_proc = shutil.which("lt-proc")
        if analyser is None or lt_proc is None or not texts:
            return None
        stream = "".join(_stream_escape(plain_text(text)) + "\0" for text, _ in texts)
        command = [lt_proc, "-z", "-w", str(analyser)]
        try:
            raw = self._call(command, stream.encode("utf-8"), timeout=self.timeout, what=f"{mode} check")
        except TranslationError:
            return None
        chunks = raw.decode("utf-8", "replace").split("\0")
        if len(chunks) < len(texts):
            return None
        counts = []
        for chunk, source, (_, marked) in zip(chunks, sources, texts, strict=False):
            names = marked | _names(source)
            unknown = [w for w in _UNKNOWN_RE.findall(chunk) if _counts_as_word(w) and w not in names]
            counts.append(len(unknown))
        return counts

    def _call(
        self, command: list[str], data: bytes, *, timeout: float, what: str, lang: str | None = None
    ) -> bytes:
        env = {**os.environ, "APERTIUM_TRANSFUSE": "no"}
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=True,  # its own process group: a timeout kills the whole pipeline
            )
        except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
            found = shutil.which(self.binary)
            raise EngineUnavailableError(
                f"cannot run Apertium ({self.binary!r}: {exc.strerror or exc}); install it with "
                "`apt-get install apertium` and the language data (`apertium-dan-nor` for nb/nn, "
                f"`apertium-swe-dan` for sv){'' if found is None else f', found at {found}'}",
                lang=lang,
            ) from exc
        except OSError as exc:
            raise TransientTranslationError(f"cannot start apertium for {what}: {exc}", lang=lang) from exc
        try:
            stdout, stderr = process.communicate(data, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _kill_group(process)
            raise TransientTranslationError(
                f"apertium {what} did not finish within {timeout:g} s", lang=lang
            ) from exc
        if process.returncode != 0:
            message = stderr.decode("utf-8", "replace").strip()
            if "does not exist" in message and "Mode" in message:
                raise EngineUnavailableError(f"apertium has no mode {what}: {_excerpt(message)}", lang=lang)
            raise TransientTranslationError(
                f"apertium {what} exited with status {process.returncode}: {_excerpt(message)}", lang=lang
            )
        return stdout


# Apertium's stream format escapes these with a backslash: in text, and (as apertium-deshtml
# does) the fewer that matter inside a superblank.
_STREAM_SPECIAL = frozenset("\\[]^$/@<>{}")
_SUPERBLANK_SPECIAL = frozenset("\\[]/")
# Characters that go as character references in superblanks, like apertium-deshtml sends entities:
# markup-significant ones, and the mark characters, so a literal "*" is never taken for a mark.
_AS_REFERENCE = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "#": "&#35;", "*": "&#42;", "@": "&#64;"}
_SPLIT_RE = re.compile(r"[ \t\n\r]+|[&<>#*@]")
_CHUNK_RE = re.compile(r'^<p id="syn-([0-9]+)">(.*)</p>$', re.DOTALL)


def _stream_escape(text: str, special: frozenset[str] = _STREAM_SPECIAL) -> str:
    return "".join("\\" + ch if ch in special else ch for ch in text)


def _deformat(number: int, body: str) -> str:
    """One segment in Apertium's stream format, NUL-terminated, the way ``apertium-deshtml`` would
    deformat ``<p id="syn-N">body</p>``: placeholders and character references become superblanks
    that take the blanks around them; other blank runs than one space become superblanks; a hidden
    period (``.[]``) ends the segment."""
    # (kind, raw): "word" text, "blank" whitespace, "format" markup that Apertium must not read.
    pieces: list[tuple[str, str]] = [("format", f'<p id="syn-{number}">')]
    for token in tokenize(body):
        if token.kind != "text":
            pieces.append(("format", canonical([token])))
            continue
        # Control characters would end Apertium's stream early (NUL) or confuse its readers.
        text = _CONTROL_RE.sub(" ", token.value)
        position = 0
        for match in _SPLIT_RE.finditer(text):
            if match.start() > position:
                pieces.append(("word", text[position : match.start()]))
            value = match.group(0)
            pieces.append(("format", _AS_REFERENCE[value]) if value in _AS_REFERENCE else ("blank", value))
            position = match.end()
        if position < len(text):
            pieces.append(("word", text[position:]))
    out: list[str] = []
    run: list[tuple[str, str]] = []

    def close_run() -> None:
        raw = "".join(value for _, value in run)
        if any(kind == "format" for kind, _ in run) or raw != " ":
            out.append(f"[{_stream_escape(raw, _SUPERBLANK_SPECIAL)}]")
        else:
            out.append(" ")
        run.clear()

    for kind, value in pieces:
        if kind == "word":
            if run:
                close_run()
            out.append(_stream_escape(value))
        else:
            run.append((kind, value))
    # The hidden period follows the last word; markup after it joins the closing superblank.
    tail = "".join(value for _, value in run) + "</p>"
    return "".join(out) + f".[][{_stream_escape(tail, _SUPERBLANK_SPECIAL)}]\0"


def _reformat(chunk: str) -> tuple[int | None, str]:
    """One NUL-terminated output segment back to segment markup: escapes undone, superblanks
    unwrapped, the hidden period dropped (as ``apertium-rehtml`` does); its number from the
    leading superblank (``None`` when it is missing)."""
    out: list[str] = []
    i, size = 0, len(chunk)
    while i < size:
        ch = chunk[i]
        if ch == "\\" and i + 1 < size:
            out.append(chunk[i + 1])
            i += 2
        elif ch == "[":
            j = i + 1
            content: list[str] = []
            while j < size and chunk[j] != "]":
                if chunk[j] == "\\" and j + 1 < size:
                    j += 1
                content.append(chunk[j])
                j += 1
            if not content and out and out[-1] == ".":
                out.pop()  # the hidden period
            out.append("".join(content))
            i = j + 1
        else:
            out.append(ch)
            i += 1
    match = _CHUNK_RE.match("".join(out).strip())
    if match is None:
        return None, "".join(out)
    return int(match.group(1)), match.group(2)


def _finish(raw: str, source: str, mode: str) -> tuple[str, tuple[QAFlag, ...], dict[str, int], set[str]]:
    """Strip Apertium's marks from one output segment; report the marked words and their counts."""
    marked: dict[str, list[str]] = {"*": [], "#": [], "@": []}
    counts = {"*": 0, "#": 0, "@": 0}

    names = _names(source)

    def unmark(match: re.Match[str]) -> str:
        word = match.group(2).strip(_WORD_EDGE)
        if _counts_as_word(word) and word not in names:
            counts[match.group(1)] += 1
        if word and word not in marked[match.group(1)]:
            marked[match.group(1)].append(word)
        return match.group(2)

    tokens = _reattach(tokenize(_MARK_RE.sub(unmark, raw)), tokenize(source))
    text = canonical(tokens)
    details = [f"{_MARK_MEANING[mark]}: {', '.join(words)}" for mark, words in marked.items() if words]
    words = {word for found in marked.values() for word in found}
    if not details:
        return text, (), counts, words
    return text, (QAFlag("unknown_words", f"apertium {mode} " + "; ".join(details)),), counts, words


_WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)
# lt-proc -w writes an unknown word as "^koldt/*koldt$".
_UNKNOWN_RE = re.compile(r"\^([^/$]*)/\*")


def _names(markup: str) -> set[str]:
    """Capitalised words of a source after its first word: names, rightly left as they are."""
    return {word for word in _WORD_RE.findall(plain_text(markup))[1:] if word[:1].isupper()}


def _counts_as_word(word: str) -> bool:
    """Whether a marked word weighs on the confidence: units and abbreviations ("kr", "m/s")
    are left as they are without harm."""
    return _WORD_RE.fullmatch(word) is not None and len(word) >= 3


def _word_count(markup: str) -> int:
    return sum(
        1 for token in tokenize(markup) if token.kind == "text" for _ in _WORD_RE.finditer(token.value)
    )


def confidence_from_marks(
    words: int, *, unknown: int, generation: int, untranslated: int, foreign: int = 0
) -> float:
    """Apertium's confidence in one segment, in [0, 1], from the words it marked and the words the
    target language's analyser does not know.

    An unknown word (``*``) and a word without a bilingual entry (``@``) are left in Danish; a
    generation error (``#``) leaves a lemma the reader cannot use; a ``foreign`` word came out
    unmarked but is not a word of the target language (Danish spelling kept, a bad compound). Each
    costs its share of the segment's words (a generation error twice, a foreign word a little
    less than a marked one, as some are just compounds the analyser lacks); the result is squared,
    because one Danish word in a short sentence already spoils it for a reader. Measured against
    sentence chrF in docs/benchmarks.md.
    """
    if words <= 0:
        return 1.0 if not (unknown or generation or untranslated or foreign) else 0.0
    share = (unknown + untranslated + 2 * generation + FOREIGN_WEIGHT * foreign) / words
    return round(max(0.0, 1.0 - share) ** 2, 4)


FOREIGN_WEIGHT = 0.75


# The tagger's stand-in: a fresh tagger after every segment that changed its state.
_TAGGER_EACH = """#!/bin/sh
# Written by syndication: apertium-tagger, restarted after a segment that changed its state.
exec '{python}' '{guard}' "$@"
"""
_TAGGER_RE = re.compile(r"(?<![\w/-])apertium-tagger(?=\s)")


def _installed_mode_file(mode: str) -> Path | None:
    datadirs = (os.environ.get("APERTIUM_DATADIR"), "/usr/share/apertium", "/usr/local/share/apertium")
    for datadir in filter(None, datadirs):
        path = Path(datadir) / "modes" / f"{mode}.mode"
        if path.is_file():
            return path
    return None


def _isolating_datadir(mode: str) -> Path | None:
    """A data folder whose ``<mode>.mode`` is the installed one with ``apertium-tagger`` run once
    per segment; ``None`` (use the installed mode) when the mode has no tagger.

    Null-flush mode resets every program of the pipeline at a NUL except the HMM tagger: in
    Apertium 3.8 a word whose ambiguity class the tagger was not trained on makes
    ``find_similar_ambiguity_class`` overwrite the tagger's open class (it assigns through a
    reference), which changes how every later word in the process is tagged. In one batch, a
    segment after "... om måneden." came out differently than alone ("vann" for "vand"). The
    mode's tagger is replaced by ``apertium_tagger_guard``, which starts a fresh tagger after a
    segment that changed its state (~10 ms, rarely needed), so the batch stays one pipeline — the
    transducers and grammars load once — with every segment tagged as if alone. Written once per
    mode content under the temporary folder, atomically."""
    source = _installed_mode_file(mode)
    if source is None:
        return None
    try:
        text = source.read_text(encoding="utf-8")
    except OSError:
        return None
    if not _TAGGER_RE.search(text):
        return None
    guard = Path(__file__).with_name("apertium_tagger_guard.py")
    wrapper = _TAGGER_EACH.format(python=sys.executable, guard=guard)
    digest = hashlib.sha256((text + wrapper + guard.read_bytes().hex()).encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"syndication-apertium-{os.getuid()}" / digest
    target = folder / "modes" / f"{mode}.mode"
    if target.is_file():
        return folder
    script = folder / "tagger-each"
    try:
        (folder / "modes").mkdir(parents=True, exist_ok=True)
        _write_atomically(script, wrapper, mode=0o755)
        _write_atomically(target, _TAGGER_RE.sub(lambda _: f"'{script}'", text), mode=0o644)
    except OSError:
        return None
    return folder


def _write_atomically(path: Path, text: str, *, mode: int) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    temporary.write_text(text, encoding="utf-8")
    temporary.chmod(mode)
    os.replace(temporary, path)


def _target_analyser(mode: str) -> Path | None:
    """The morphological analyser of the mode's target language: the first ``automorf.bin`` of the
    reverse mode (``nob-dan`` for ``dan-nob``), when that pair is installed."""
    source, _, target = mode.partition("-")
    datadirs = (os.environ.get("APERTIUM_DATADIR"), "/usr/share/apertium", "/usr/local/share/apertium")
    for datadir in filter(None, datadirs):
        path = Path(datadir) / "modes" / f"{target}-{source}.mode"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        match = re.search(r"lt-proc[^|]*?'?([^'\s|]+automorf\.bin)", text)
        if match and Path(match.group(1)).is_file():
            return Path(match.group(1))
    return None


def _reattach(tokens: list[Token], source: list[Token]) -> list[Token]:
    """Undo Apertium's one known way of misplacing an opening placeholder.

    The deformatter turns ``<g id="1">`` into formatting glued to the space before it. When a
    transfer rule joins the first word of the span to the word before it ("for <g>at blive</g>"),
    that formatting comes out after the first word: "for å <g> bli</g>", or, for a one-word span,
    "som <g></g>". The sign is an opening placeholder that hugged its first word in the source but
    is followed by a space (or its own end) in the output, right after a word: the word goes back in.
    """
    hugging = {
        token.value
        for token, after in zip(source, [*source[1:], None], strict=True)
        if token.kind == "open"
        and after is not None
        and not (after.kind == "text" and after.value[:1].isspace())
    }
    out = list(tokens)
    i = 1
    while i < len(out):
        token, before = out[i], out[i - 1]
        after = out[i + 1] if i + 1 < len(out) else None
        loose = after is None or after.kind == "close" or (after.kind == "text" and after.value[:1].isspace())
        match = _LAST_WORD_RE.match(before.value) if before.kind == "text" else None
        if token.kind != "open" or token.value not in hugging or not loose or match is None:
            i += 1
            continue
        prefix, word, space = match.groups()
        moved = [Token("text", prefix), token, Token("text", word)]
        if after is not None and after.kind == "close":
            follow = out[i + 2] if i + 2 < len(out) else None
            moved.append(after)
            if space and not (follow is not None and follow.kind == "text" and follow.value[:1].isspace()):
                moved.append(Token("text", space))
            out[i - 1 : i + 2] = moved
        else:
            out[i - 1 : i + 1] = moved
        i += len(moved) - 1
    return [t for t in out if t.kind != "text" or t.value]


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.communicate()


def _excerpt(message: str, limit: int = 500) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else "…" + message[-limit:]


def _install_hint(source: str, target: str) -> str:
    package = _DEBIAN_PACKAGES.get(frozenset({source, target}))
    if package is not None:
        return (
            f"Apertium pair {source}→{target} is not installed: `apt-get install {package}` "
            "(the Debian package with its language data)"
        )
    return (
        f"Apertium has no {source}→{target} pair installed and none is known for it; "
        "look for one with `apt-cache search apertium-`, or use another engine for this language"
    )


def _package_version(mode: str, package: str | None = None) -> str:
    """The Debian package (name and version) holding the pair's data, else a content hash of the
    mode file. Read from dpkg's status file rather than ``dpkg-query -S``, which scans every
    package's file list (~0.3 s per pair, paid on every run)."""
    datadirs = (os.environ.get("APERTIUM_DATADIR"), "/usr/share/apertium", "/usr/local/share/apertium")
    for datadir in filter(None, datadirs):
        path = Path(datadir) / "modes" / f"{mode}.mode"
        if path.is_file():
            break
    else:
        return f"apertium {mode} (version unknown)"
    if package is not None:
        version = _dpkg_version(package)
        if version is not None:
            return f"{package} {version}"
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return f"apertium {mode} (version unknown)"
    return f"apertium {mode} (unpackaged, mode {digest})"


def _dpkg_version(package: str, status: Path = Path("/var/lib/dpkg/status")) -> str | None:
    """``Version:`` of an installed package from dpkg's status database (a plain RFC 822 file)."""
    try:
        text = status.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for stanza in text.split("\n\n"):
        if stanza.startswith(f"Package: {package}\n") and "Status: install ok installed" in stanza:
            for line in stanza.splitlines():
                if line.startswith("Version: "):
                    return line[len("Version: ") :].strip()
    return None
