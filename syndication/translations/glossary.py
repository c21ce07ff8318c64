"""The glossary: terms never to translate, and fixed translations per target language.

File format (``config/glossary.csv``, UTF-8 with or without BOM)::

    # Names and fixed terms. Lines starting with # and blank lines are ignored.
    term,lang,translation,case_sensitive
    Messe C,*,,                          ← a name: never translated, in any language
    Netværksdagen,*,,
    generalforsamling,en,annual general meeting,no
    generalforsamling,de,Mitgliederversammlung,no
    Region Midtjylland,en,Central Denmark Region,

* ``term`` — the Danish term as it appears in the text (required);
* ``lang`` — the target language the row applies to (``en``, ``nb`` …), or ``*`` for all; a row for
  a specific language wins over ``*``;
* ``translation`` — the fixed translation; **empty means "do not translate"** (the term is kept as
  written in the source);
* ``case_sensitive`` — ``yes``/``no`` (also true/false/1/0); empty means *yes when the term has a
  capital letter* (names), else no.

Terms match whole words only (``Messe C`` does not match inside ``Messe Center``), longest first, and
never inside placeholders. How it is applied: :meth:`Glossary.protect` replaces each occurrence in
a segment with ``<x id="t1"/>``, ``<x id="t2"/>`` … (ids distinct from the segmenter's numbers);
engines keep ``<x/>`` placeholders (Apertium passes them through as markup, the Argos engine as
stand-ins); :func:`restore` puts the term or its fixed translation back; :meth:`Glossary.violations`
checks the result.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from syndication.errors import ConfigError
from syndication.models import QAFlag
from syndication.translations.inline import escape, strip_placeholders

if TYPE_CHECKING:
    from syndication.settings import Settings

GLOSSARY_VIOLATION = "glossary_violation"
DEFAULT_PATH = "config/glossary.csv"
"""Used when ``[translation] glossary`` is not set and the file exists (``""`` switches it off)."""
COLUMNS = ("term", "lang", "translation", "case_sensitive")
_LANG = re.compile(r"^(?:\*|[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)$")
_TRUE = {"yes", "y", "true", "1", "ja"}
_FALSE = {"no", "n", "false", "0", "nej"}
_TAG = re.compile(r"<\s*/?\s*[gx]\b[^<>]*>", re.IGNORECASE)
_REF = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_IDS = re.compile(r"""\bid\s*=\s*["']?([^"'\s/>]+)""")


@dataclass(frozen=True)
class GlossaryEntry:
    term: str
    lang: str
    translation: str
    case_sensitive: bool
    line: int = 0

    @property
    def keep(self) -> bool:
        """True for a do-not-translate term."""
        return not self.translation


@dataclass(frozen=True)
class Protection:
    """What :func:`restore` and :meth:`Glossary.violations` need to know about one protected text."""

    replacements: Mapping[str, str] = field(default_factory=dict)
    """Placeholder id (``t1``) → escaped text to put back."""


def _word_pattern(text: str, case_sensitive: bool) -> str:
    body = r"\s+".join(re.escape(part) for part in text.split())
    body = body if case_sensitive else f"(?i:{body})"
    return rf"(?<![\w&#]){body}(?!\w)"


class Glossary:
    def __init__(self, entries: Iterable[GlossaryEntry] = (), *, source: str = "glossary") -> None:
        self.entries = list(entries)
        self.source = source
        self._patterns: dict[str, tuple[re.Pattern[str], list[GlossaryEntry]] | None] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def rules_for(self, target: str) -> list[GlossaryEntry]:
        """The entries that apply to ``target``: language-specific rows override ``*`` rows."""
        specific = {e.term.casefold(): e for e in self.entries if e.lang == target}
        rules = list(specific.values())
        rules += [e for e in self.entries if e.lang == "*" and e.term.casefold() not in specific]
        return sorted(rules, key=lambda e: (-len(e.term), e.term))

    def _pattern(self, target: str) -> tuple[re.Pattern[str], list[GlossaryEntry]] | None:
        if target not in self._patterns:
            rules = self.rules_for(target)
            if not rules:
                self._patterns[target] = None
            else:
                # Matched against escaped segment text, so terms are escaped the same way.
                alternatives = [
                    f"(?P<t{i}>{_word_pattern(escape(rule.term), rule.case_sensitive)})"
                    for i, rule in enumerate(rules)
                ]
                self._patterns[target] = (re.compile("|".join(alternatives)), rules)
        return self._patterns[target]

    # ------------------------------------------------------------------------------- apply

    def protect(self, text: str, target: str) -> tuple[str, Protection]:
        """Replace glossary terms in segment markup ``text`` by ``<x id="tN"/>`` placeholders."""
        compiled = self._pattern(target)
        if compiled is None or not text:
            return text, Protection()
        pattern, rules = compiled
        taken = set(_IDS.findall(text))
        counter = 0
        replacements: dict[str, str] = {}

        def substitute(match: re.Match[str]) -> str:
            nonlocal counter
            rule = next(
                rules[int(name[1:])] for name, value in match.groupdict().items() if value is not None
            )
            counter += 1
            while f"t{counter}" in taken:
                counter += 1
            ident = f"t{counter}"
            if rule.keep:
                replacements[ident] = match.group(0)
            else:
                replacements[ident] = escape(_follow_capital(match.group(0), rule))
            return f'<x id="{ident}"/>'

        out: list[str] = []
        pos = 0
        # Only text between placeholders is searched; character references are kept whole.
        for tag in _TAG.finditer(text):
            out.append(_outside_refs(text[pos : tag.start()], pattern, substitute))
            out.append(tag.group(0))
            pos = tag.end()
        out.append(_outside_refs(text[pos:], pattern, substitute))
        return "".join(out), Protection(replacements)

    def violations(self, source: str, translated: str, target: str) -> list[QAFlag]:
        """Glossary rules the translation breaks (and glossary placeholders left in it)."""
        flags: list[QAFlag] = []
        leftover = sorted(set(re.findall(r"""<\s*x\s+id\s*=\s*["']?(t\d+)""", translated)))
        if leftover:
            flags.append(
                QAFlag(
                    GLOSSARY_VIOLATION,
                    f"Glossary placeholder(s) {', '.join(leftover)} were not replaced by their terms.",
                )
            )
        source_text = strip_placeholders(source)
        target_text = strip_placeholders(translated)
        for rule in self.rules_for(target):
            expected = rule.term if rule.keep else rule.translation
            wanted = len(re.findall(_word_pattern(rule.term, rule.case_sensitive), source_text))
            if not wanted:
                continue
            found = len(re.findall(_word_pattern(expected, rule.case_sensitive and rule.keep), target_text))
            if found >= wanted:
                continue
            if rule.keep:
                message = f"“{rule.term}” must stay untranslated, but the translation does not contain it"
            else:
                message = (
                    f"“{rule.term}” must be translated as “{rule.translation}” (glossary), "
                    "but the translation does not contain that"
                )
            if wanted > 1:
                message += f" {wanted} times (found {found})"
            flags.append(QAFlag(GLOSSARY_VIOLATION, message + "."))
        return flags

    def terms_in(self, source: str, translated: str, target: str) -> list[tuple[GlossaryEntry, bool]]:
        """The rules whose term is in ``source``, each with whether ``translated`` has the required
        text as often (the rule :meth:`violations` flags); for the review page's hints."""
        source_text = strip_placeholders(source)
        target_text = strip_placeholders(translated)
        found: list[tuple[GlossaryEntry, bool]] = []
        for rule in self.rules_for(target):
            wanted = len(re.findall(_word_pattern(rule.term, rule.case_sensitive), source_text))
            if not wanted:
                continue
            expected = rule.term if rule.keep else rule.translation
            have = len(re.findall(_word_pattern(expected, rule.case_sensitive and rule.keep), target_text))
            found.append((rule, have >= wanted))
        return found


def _follow_capital(found: str, rule: GlossaryEntry) -> str:
    """The fixed translation, capitalised when a case-insensitive term was found with a capital
    (at the start of a sentence, or in a title): "Generalforsamling …" → "Annual general meeting …"."""
    translation = rule.translation
    if not rule.case_sensitive and found[:1].isupper() and translation[:1].islower():
        return translation[0].upper() + translation[1:]
    return translation


def _outside_refs(text: str, pattern: re.Pattern[str], substitute: Callable[[re.Match[str]], str]) -> str:
    """Apply ``pattern`` to ``text`` but never to a character reference like ``&amp;``."""
    if not text:
        return text
    spans = [m.span() for m in _REF.finditer(text)]

    def guarded(match: re.Match[str]) -> str:
        start, end = match.span()
        if any(a < end and start < b and not (a >= start and b <= end) for a, b in spans):
            return match.group(0)  # would cut a reference in two
        return substitute(match)

    return pattern.sub(guarded, text)


def restore(translated: str, protection: Protection) -> str:
    """Put the protected terms (or their fixed translations) back in place of their placeholders."""
    if not protection.replacements:
        return translated

    def back(match: re.Match[str]) -> str:
        return protection.replacements.get(match.group(1), match.group(0))

    return re.sub(r"""<\s*x\s+id\s*=\s*["']?(t\d+)["']?\s*/?\s*>""", back, translated)


# --------------------------------------------------------------------------------- loading


def _flag(value: str, where: str) -> bool | None:
    value = value.strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{where}: case_sensitive must be yes or no, not {value!r}")


def parse_glossary(text: str, *, source: str = "glossary") -> Glossary:
    """Parse glossary CSV text; errors name the file and line."""
    text = text.lstrip("\ufeff")
    header: list[str] | None = None
    entries: list[GlossaryEntry] = []
    seen: dict[tuple[str, str], int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{source}, line {number}"
        try:
            row = next(csv.reader([line], skipinitialspace=True))
        except csv.Error as exc:
            raise ConfigError(f"{where}: not valid CSV ({exc})") from exc
        row = [cell.strip() for cell in row]
        if header is None:
            header = [cell.lower() for cell in row]
            unknown = [c for c in header if c not in COLUMNS]
            missing = [c for c in COLUMNS[:3] if c not in header]
            if unknown or missing:
                problems = []
                if missing:
                    problems.append(f"missing column(s) {', '.join(missing)}")
                if unknown:
                    problems.append(f"unknown column(s) {', '.join(unknown)}")
                raise ConfigError(
                    f"{where}: the first line must be the header `term,lang,translation,case_sensitive` "
                    f"({'; '.join(problems)})"
                )
            continue
        if len(row) > len(header):
            raise ConfigError(
                f"{where}: {len(row)} fields but the header has {len(header)} (a comma in a term? quote it)"
            )
        values = dict(zip(header, row + [""] * (len(header) - len(row)), strict=True))
        term = values["term"]
        if not term:
            raise ConfigError(f"{where}: the term is empty")
        if len(term) > 200:
            raise ConfigError(f"{where}: the term is longer than 200 characters")
        lang = values["lang"] or ""
        if lang == "no":
            raise ConfigError(f"{where}: use nb (Bokmål) or nn (Nynorsk), not no")
        if not _LANG.match(lang):
            raise ConfigError(f"{where}: lang must be a language tag such as en or nb, or *, not {lang!r}")
        sensitive = _flag(values.get("case_sensitive", ""), where)
        if sensitive is None:
            sensitive = any(ch.isupper() for ch in term)
        key = (term.casefold(), lang)
        if key in seen:
            raise ConfigError(f"{where}: {term!r} for {lang} is already defined on line {seen[key]}")
        seen[key] = number
        entries.append(GlossaryEntry(term, lang, values["translation"], sensitive, number))
    return Glossary(entries, source=source)


def load_glossary(path: str | Path) -> Glossary:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(
            f"glossary file {path} not found; create it or remove the `glossary` setting"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read glossary file {path}: {exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"glossary file {path} is not UTF-8 (byte {exc.start}); save it as UTF-8") from exc
    return parse_glossary(text, source=str(path))


def configured_glossary(settings: Settings) -> Glossary | None:
    """The glossary of a configuration: ``[translation] glossary`` (which must exist) when set,
    else ``config/glossary.csv`` if there is one; ``glossary = ""`` means none."""
    path = settings.translation.glossary
    if path is None:
        default = settings.resolve_path(DEFAULT_PATH)
        return load_glossary(default) if default.is_file() else None
    return load_glossary(settings.resolve_path(path)) if path else None
