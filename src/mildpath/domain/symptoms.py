"""The symptom reader: find warning signs in what a patient writes, in English, Spanish or both (issue 15 §1).

The vocabulary is content (``content/symptoms.yaml``, validated by :class:`SymptomVocabulary`); this module only
reads text against it. It is pure: no I/O, no clock.

How a text is read
------------------
1. **Normalised with offsets.** Lower case, accents removed (``orinár`` reads as ``orinar``; ``ñ`` is kept),
   apostrophes dropped (``can't`` reads as ``cant``), ``can not`` read as ``cannot``. Every normalised character
   remembers where it came from, so a match returns the patient's own words, exactly as written
   (``text == original[start:end]``).
2. **Clauses.** Patterns match inside a clause: text between ``. , ; : ! ?``, brackets and line breaks. A clause
   ending in ``?`` is uncertain. Negation is scoped more tightly, to the part of the clause between the
   conjunctions ``and / but / y / pero ...``: in "no fever and I can't pee" the "no" does not reach "pee".
3. **Patterns.** A pattern is a row of slots separated by spaces: ``word``, ``alt|other``, ``prefix*``,
   ``$list`` (a named word list, whose entries may be several words: ``between my legs``), ``@neg`` (any
   negation cue), ``...`` (zero to six other words; a negation cue among them negates the sign), and a
   trailing ``?`` makes a slot optional. Words of ``fuzzy_min_length`` letters or more (default 5) also match a
   typo: same first letter and an edit distance of 1 (2 from 8 letters), so ``numbnes`` and ``bladdr`` are read.
   A pattern's own negation words (``no puedo orinar``, ``can't pee``) are part of the sign, never a cue.
4. **Negation and resolution.** A negation cue (``no``, ``not``, ``sin``, ``never``...) in the same part of the
   clause at most ``negation_window`` words before the sign, or a resolution cue (``no longer``, ``ya no``,
   ``anymore``, ``ya se me pasó``...) before or after it, suppresses the sign. ``benign`` phrases ("no trouble
   peeing", "orino bien") suppress the signs they overlap. "Never had chest pain like this" is not a negation:
   an ``affirm_after`` cue after the sign cancels it.
5. **Uncertainty.** An uncertainty cue in the clause (``maybe``, ``creo que``, ``a lo mejor``, a ``?``) never
   lowers a level: the sign keeps its level, at least ``review``; an uncertain negation ("creo que no tengo
   fiebre") is a ``review`` match rather than nothing.
6. **Temperatures.** A number read as a body temperature (``101.5F``, ``38,4``, ``38.4 °C``, or a number next to
   a temperature word) is converted to °C (Fahrenheit from 95 up) and compared with the fever threshold; at or
   above it, it matches the vocabulary's ``temperature_rule``.
7. **Unclassified signs.** A ``sign_words`` entry that no rule covers and that is not negated or resolved matches
   rule ``unclassified_sign`` at level ``review``: an unknown symptom is seen by a clinician, never reassured.

A match nested inside a match of the same or a higher level is dropped, so "numb groin" is reported once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mildpath.domain.catalog import by_id
from mildpath.domain.errors import InvalidInput

Level = Literal["emergency", "same_day", "review"]
Language = Literal["en", "es"]
UNCLASSIFIED: Final = "unclassified_sign"
_URGENCY: Final[dict[str, int]] = {"emergency": 3, "same_day": 2, "review": 1}
_GAP: Final = 6
_APOSTROPHES: Final = "'’‘`´"
# A full stop or comma between digits is a decimal mark ("101.5F", "38,4"), not a clause break.
_CLAUSE_BREAK: Final = re.compile(r"[;:!?()\[\]\n\r¿¡]|\s-\s|[.,](?!\d)|(?<!\d)[.,]")
_TOKEN: Final = re.compile(r"[a-zñ0-9]+")


# ------------------------------------------------------------------------------------------ the vocabulary


class Bilingual(BaseModel):
    """A text in English and Spanish."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    en: str = Field(min_length=1)
    es: str = Field(min_length=1)

    def get(self, language: str) -> str:
        return self.es if language == "es" else self.en


class SymptomRule(BaseModel):
    """One sign: its patterns in each language, its level, what it means in plain words, and its sources."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    level: Level
    sources: tuple[str, ...] = Field(min_length=1)
    label: Bilingual = Field(description="The sign in a few plain words, for the patient")
    meaning: Bilingual = Field(description="What it may mean and why it matters, for the patient")
    clinician: str = Field(min_length=1, description="The sign in clinician wording")
    patterns: dict[Language, tuple[str, ...]] = Field(default_factory=dict)
    notes: str = ""

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value == UNCLASSIFIED:
            raise ValueError(f"{UNCLASSIFIED} is the reader's own rule")
        return value


class SymptomVocabulary(BaseModel):
    """The whole vocabulary (``content/symptoms.yaml``); construction checks every pattern and list name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1, description="Sources of the cue lists and the reader itself")
    fuzzy_min_length: int = Field(default=5, ge=4, le=12)
    negation_window: int = Field(default=5, ge=1, le=10)
    words: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    not_typos: tuple[str, ...] = Field(default=(), description="Real words never read as a typo of a sign word")
    negation: tuple[str, ...] = Field(min_length=1)
    not_negation: tuple[str, ...] = ()
    resolution_before: tuple[str, ...] = ()
    resolution_after: tuple[str, ...] = ()
    affirm_after: tuple[str, ...] = ()
    uncertainty: tuple[str, ...] = ()
    conjunctions: tuple[str, ...] = ()
    temperature_words: tuple[str, ...] = ()
    temperature_rule: str
    benign: tuple[str, ...] = ()
    sign_words: tuple[str, ...] = ()
    unclassified_sources: tuple[str, ...] = Field(min_length=1)
    unclassified_label: Bilingual
    unclassified_meaning: Bilingual
    unclassified_clinician: str = Field(min_length=1)
    emergency_notice: Bilingual | None = Field(
        default=None, description="Shown wherever a patient reports symptoms; {number} is the emergency number"
    )
    rules: tuple[SymptomRule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> SymptomVocabulary:
        ids = [rule.id for rule in self.rules]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"rule id {', '.join(dupes)} appears twice")
        if self.temperature_rule not in ids:
            raise ValueError(f"temperature_rule {self.temperature_rule!r} is not a rule id")
        for rule in self.rules:
            if not any(rule.patterns.values()) and rule.id != self.temperature_rule:
                raise ValueError(f"rule {rule.id} has no pattern")
            for language, patterns in rule.patterns.items():
                for i, pattern in enumerate(patterns):
                    _compile(pattern, self.words, f"rules[{rule.id}].patterns.{language}[{i}]")
        for i, pattern in enumerate(self.benign):
            _compile(pattern, self.words, f"benign[{i}]")
        for i, pattern in enumerate(self.sign_words):
            _compile(pattern, self.words, f"sign_words[{i}]")
        return self

    def rule(self, rule_id: str) -> SymptomRule:
        return by_id(self.rules, rule_id)

    def all_sources(self) -> tuple[str, ...]:
        ids = [*self.sources, *self.unclassified_sources, *(s for r in self.rules for s in r.sources)]
        return tuple(dict.fromkeys(ids))


def make_vocabulary(data: Mapping[str, object]) -> SymptomVocabulary:
    """Validate plain data (the parsed YAML); raise :class:`InvalidInput` naming the first problem."""
    from pydantic import ValidationError

    try:
        return SymptomVocabulary.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "vocabulary"
        raise InvalidInput(f"{where}: {first.get('msg', 'invalid')}", field=where) from None


# ------------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class SymptomMatch:
    """One sign found in the text: the patient's exact words (``text == original[start:end]``) and the rule."""

    text: str
    start: int
    end: int
    rule: str
    level: Level
    sources: tuple[str, ...]
    label: Bilingual
    meaning: Bilingual
    clinician: str
    uncertain: bool = False
    language: str = ""

    @property
    def source(self) -> str:
        return self.sources[0]

    def to_json(self) -> dict[str, str]:
        """The contract's shape (contracts §8): ``{"text", "rule", "level", "source"}``."""
        return {"text": self.text, "rule": self.rule, "level": self.level, "source": self.source}


@dataclass(frozen=True)
class Suppressed:
    """A sign that was read but did not count, and why: ``negated``, ``resolved`` or ``benign``."""

    text: str
    start: int
    end: int
    rule: str
    why: str


@dataclass(frozen=True)
class Reading:
    """What the reader found in one text: the signs that count, worst first, and those it set aside."""

    matches: tuple[SymptomMatch, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()

    @property
    def level(self) -> Level | None:
        """The worst level among the matches, or ``None`` when nothing counts."""
        if not self.matches:
            return None
        return max((m.level for m in self.matches), key=lambda lv: _URGENCY[lv])


# ------------------------------------------------------------------------------------------ normalising


@dataclass(frozen=True)
class _Token:
    word: str
    start: int  # offsets in the original text
    end: int
    index: int  # position in the clause


@dataclass(frozen=True)
class _Clause:
    tokens: tuple[_Token, ...]
    part: tuple[int, ...]  # the negation part (sub-clause) of each token
    question: bool


def _normalise(text: str) -> tuple[str, list[int]]:
    """Lower-cased, accent-free text and, for each of its characters, the offset of the original character."""
    out: list[str] = []
    where: list[int] = []
    for i, char in enumerate(text):
        if char in _APOSTROPHES:
            continue
        low = char.lower()
        if low == "ñ":
            pieces = "ñ"
        else:
            pieces = "".join(c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c))
        for piece in pieces:
            out.append(piece)
            where.append(i)
    return "".join(out), where


def _clauses(text: str, conjunctions: frozenset[str]) -> list[_Clause]:
    norm, where = _normalise(text)
    out: list[_Clause] = []
    pos = 0
    pieces: list[tuple[int, int, bool]] = []
    for brk in _CLAUSE_BREAK.finditer(norm):
        pieces.append((pos, brk.start(), brk.group().strip() == "?"))
        pos = brk.end()
    pieces.append((pos, len(norm), False))
    for begin, finish, question in pieces:
        raw = [(m.group(), m.start() + begin, m.end() + begin) for m in _TOKEN.finditer(norm[begin:finish])]
        words: list[tuple[str, int, int]] = []
        for word, s, e in raw:
            if word == "not" and words and words[-1][0] == "can":
                words[-1] = ("cannot", words[-1][1], e)
                continue
            words.append((word, s, e))
        if not words:
            continue
        tokens = tuple(_Token(word, where[s], where[e - 1] + 1, index) for index, (word, s, e) in enumerate(words))
        parts: list[int] = []
        part = 0
        for tok in tokens:
            if tok.word in conjunctions:
                part += 1
            parts.append(part)
        out.append(_Clause(tokens, tuple(parts), question))
    return out


# ------------------------------------------------------------------------------------------ patterns


@dataclass(frozen=True)
class _Word:
    text: str
    prefix: bool


_Alternative = tuple[_Word, ...]


@dataclass(frozen=True)
class _Slot:
    kind: Literal["words", "gap", "neg"]
    alternatives: tuple[_Alternative, ...] = ()
    optional: bool = False


def _words_of(phrase: str) -> _Alternative:
    norm, _ = _normalise(phrase)
    out = []
    for raw in norm.split():
        prefix = raw.endswith("*")
        text = raw.rstrip("*")
        if not text or not _TOKEN.fullmatch(text):
            raise InvalidInput(f"{phrase!r}: {raw!r} is not a word", field=phrase)
        out.append(_Word(text, prefix))
    return tuple(out)


def _compile(pattern: str, lists: Mapping[str, Sequence[str]], where: str) -> tuple[_Slot, ...]:
    try:
        return _compile_cached(pattern, tuple(sorted((k, tuple(v)) for k, v in lists.items())))
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}", field=where) from None


@lru_cache(maxsize=4096)
def _compile_cached(pattern: str, lists: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[_Slot, ...]:
    named = dict(lists)
    slots: list[_Slot] = []
    for raw in pattern.split():
        optional = raw.endswith("?") and raw != "?"
        body = raw[:-1] if optional else raw
        if body == "...":
            slots.append(_Slot("gap"))
            continue
        if body == "@neg":
            slots.append(_Slot("neg", optional=optional))
            continue
        alternatives: list[_Alternative] = []
        for alt in body.split("|"):
            if alt.startswith("$"):
                if alt[1:] not in named:
                    raise InvalidInput(f"unknown word list {alt!r}", field=pattern)
                alternatives.extend(_words_of(entry) for entry in named[alt[1:]])
            else:
                alternatives.append(_words_of(alt))
        slots.append(_Slot("words", tuple(alternatives), optional))
    if not slots or slots[0].kind == "gap" or slots[-1].kind == "gap" or all(s.optional for s in slots):
        raise InvalidInput("a pattern starts and ends with a word and is not all optional", field=pattern)
    return tuple(slots)


def _collapse(word: str) -> str:
    """Runs of one letter read as one: ``numbb`` -> ``numb``."""
    return re.sub(r"(.)\1+", r"\1", word)


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a swap of two neighbours counts 1), cut off above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


class _Matcher:
    """Pattern matching over one clause, with the vocabulary's typo tolerance."""

    def __init__(self, vocab: SymptomVocabulary) -> None:
        self.vocab = vocab
        self.fuzzy_min = vocab.fuzzy_min_length
        self.negation = [_words_of(cue) for cue in vocab.negation]
        self.not_typos = frozenset(_normalise(word)[0] for word in vocab.not_typos)
        self._cache: dict[tuple[str, str, bool], bool] = {}

    def word_matches(self, token: str, word: _Word) -> bool:
        key = (token, word.text, word.prefix)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._word_matches(token, word)
            self._cache[key] = hit
        return hit

    def _word_matches(self, token: str, word: _Word) -> bool:
        if token.isdigit() or token in self.not_typos:
            return token.startswith(word.text) if word.prefix else token == word.text
        if word.prefix:
            if token.startswith(word.text):
                return True
            # a typo inside a long stem: "adormesida" for "adormecid*"
            n = len(word.text)
            if n < self.fuzzy_min + 1 or len(token) < n - 1 or token[0] != word.text[0]:
                return False
            return any(_edit_distance(token[:k], word.text, 1) <= 1 for k in (n - 1, n, n + 1) if k <= len(token))
        if token == word.text:
            return True
        if len(token) > len(word.text) >= 3 and _collapse(token) == _collapse(word.text):
            return True  # a doubled letter: "leggs", "weaak", "numbb"
        if len(word.text) < self.fuzzy_min or len(token) < self.fuzzy_min - 1 or token[0] != word.text[0]:
            return False
        if token.isdigit() or token in self.not_typos:
            return False
        limit = 2 if len(word.text) >= 8 else 1
        return _edit_distance(token, word.text, limit) <= limit

    def phrase_at(self, tokens: Sequence[_Token], i: int, phrase: _Alternative) -> int | None:
        """The index after ``phrase`` when it matches at ``i``, else ``None``."""
        if i + len(phrase) > len(tokens):
            return None
        for k, word in enumerate(phrase):
            if not self.word_matches(tokens[i + k].word, word):
                return None
        return i + len(phrase)

    def match(self, tokens: Sequence[_Token], i: int, slots: Sequence[_Slot]) -> int | None:
        """Match ``slots`` from token ``i``; the index after the last matched token, shortest first."""
        found = self._walk(tokens, i, slots)
        return found[0] if found is not None else None

    def gap_tokens(self, tokens: Sequence[_Token], i: int, slots: Sequence[_Slot]) -> tuple[int, ...] | None:
        """The indices of the tokens the same match skipped over in its ``...`` slots, or None (no match)."""
        found = self._walk(tokens, i, slots)
        return found[1] if found is not None else None

    def _walk(
        self, tokens: Sequence[_Token], i: int, slots: Sequence[_Slot]
    ) -> tuple[int, tuple[int, ...]] | None:
        """(index after the match, the tokens its gaps skipped) for ``slots`` from ``i``, shortest first."""
        if not slots:
            return i, ()
        slot, rest = slots[0], slots[1:]
        if slot.kind == "gap":
            for skip in range(_GAP + 1):
                if i + skip > len(tokens):
                    break
                found = self._walk(tokens, i + skip, rest)
                if found is not None:
                    return found[0], tuple(range(i, i + skip)) + found[1]
            return None
        options = self.negation if slot.kind == "neg" else slot.alternatives
        for phrase in options:
            after = self.phrase_at(tokens, i, phrase)
            if after is not None and after > i:
                found = self._walk(tokens, after, rest)
                if found is not None:
                    return found
        if slot.optional:
            return self._walk(tokens, i, rest)
        return None

    def find_all(self, tokens: Sequence[_Token], slots: Sequence[_Slot]) -> list[tuple[int, int]]:
        """Every (first, after-last) token span where ``slots`` match, one per start token."""
        out: list[tuple[int, int]] = []
        for i in range(len(tokens)):
            end = self.match(tokens, i, slots)
            if end is not None and end > i:
                out.append((i, end))
        return out

    def phrases_in(self, tokens: Sequence[_Token], phrases: Sequence[_Alternative]) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        for i in range(len(tokens)):
            for phrase in phrases:
                after = self.phrase_at(tokens, i, phrase)
                if after is not None:
                    spans.append((i, after))
        return spans


# ------------------------------------------------------------------------------------------ reading


@dataclass
class _Prepared:
    matcher: _Matcher
    rules: list[tuple[SymptomRule, str, tuple[_Slot, ...]]] = field(default_factory=list)
    benign: list[tuple[_Slot, ...]] = field(default_factory=list)
    signs: list[tuple[_Slot, ...]] = field(default_factory=list)
    negation: list[_Alternative] = field(default_factory=list)
    not_negation: list[_Alternative] = field(default_factory=list)
    resolution_before: list[_Alternative] = field(default_factory=list)
    resolution_after: list[_Alternative] = field(default_factory=list)
    affirm_after: list[_Alternative] = field(default_factory=list)
    uncertainty: list[_Alternative] = field(default_factory=list)
    temperature_words: list[_Alternative] = field(default_factory=list)
    conjunctions: frozenset[str] = frozenset()


_PREPARED: dict[int, tuple[SymptomVocabulary, _Prepared]] = {}


def _prepare(vocab: SymptomVocabulary) -> _Prepared:
    cached = _PREPARED.get(id(vocab))
    if cached is not None and cached[0] is vocab:
        return cached[1]
    prep = _Prepared(_Matcher(vocab))
    for rule in vocab.rules:
        for language, patterns in rule.patterns.items():
            for pattern in patterns:
                prep.rules.append((rule, language, _compile(pattern, vocab.words, rule.id)))
    prep.benign = [_compile(p, vocab.words, "benign") for p in vocab.benign]
    prep.signs = [_compile(p, vocab.words, "sign_words") for p in vocab.sign_words]
    prep.negation = [_words_of(c) for c in vocab.negation]
    prep.not_negation = [_words_of(c) for c in vocab.not_negation]
    prep.resolution_before = [_words_of(c) for c in vocab.resolution_before]
    prep.resolution_after = [_words_of(c) for c in vocab.resolution_after]
    prep.affirm_after = [_words_of(c) for c in vocab.affirm_after]
    prep.uncertainty = [_words_of(c) for c in vocab.uncertainty]
    prep.temperature_words = [_words_of(c) for c in vocab.temperature_words]
    prep.conjunctions = frozenset(_normalise(c)[0] for c in vocab.conjunctions)
    if len(_PREPARED) > 8:
        _PREPARED.clear()
    _PREPARED[id(vocab)] = (vocab, prep)
    return prep


@dataclass(frozen=True)
class _Context:
    """Where the cues of one clause are."""

    negations: tuple[tuple[int, int], ...]
    resolutions_before: tuple[tuple[int, int], ...]
    resolutions_after: tuple[tuple[int, int], ...]
    affirms: tuple[tuple[int, int], ...]
    uncertain: bool


def _context(clause: _Clause, prep: _Prepared) -> _Context:
    tokens = clause.tokens
    m = prep.matcher
    blocked = m.phrases_in(tokens, prep.not_negation)
    uncertain_spans = m.phrases_in(tokens, prep.uncertainty)

    def free(span: tuple[int, int]) -> bool:
        return not any(b[0] <= span[0] and span[1] <= b[1] for b in blocked)

    negations = tuple(s for s in m.phrases_in(tokens, prep.negation) if free(s))
    return _Context(
        negations=negations,
        resolutions_before=tuple(m.phrases_in(tokens, prep.resolution_before)),
        resolutions_after=tuple(m.phrases_in(tokens, prep.resolution_after)),
        affirms=tuple(m.phrases_in(tokens, prep.affirm_after)),
        uncertain=clause.question or bool(uncertain_spans) or bool(blocked),
    )


def _negated_inside(
    prep: _Prepared, tokens: Sequence[_Token], ctx: _Context, first: int, after: int, slots: Sequence[_Slot]
) -> bool:
    """"my legs are not swollen": a negation cue among the words a pattern skipped (its ``...``) negates the sign,
    as one before it does. Not when the pattern's own words hold a negation ("cant feel", "no siento ... nada":
    Spanish doubles its negations), where a second one only insists."""
    skipped = set(prep.matcher.gap_tokens(tokens, first, slots) or ())
    own = set(range(first, after)) - skipped
    cues = [set(range(s, e)) for s, e in ctx.negations if first <= s and e <= after]
    if any(cue & own for cue in cues) or any(_is_negation_word(tokens[i].word, prep) for i in own):
        return False
    return any(cue <= skipped for cue in cues)


def _is_negation_word(word: str, prep: _Prepared) -> bool:
    return any(len(cue) == 1 and prep.matcher.word_matches(word, cue[0]) for cue in prep.negation)


def _status(clause: _Clause, ctx: _Context, first: int, after: int, window: int) -> str | None:
    """``negated``, ``resolved`` or ``None`` for the sign spanning tokens ``first`` to ``after - 1``."""
    part = clause.part[first]
    same_part = [i for i in range(len(clause.tokens)) if clause.part[i] == part]
    lo, hi = same_part[0], same_part[-1] + 1
    affirmed = any(after <= s and e <= hi for s, e in ctx.affirms)
    for s, e in ctx.resolutions_before:
        if lo <= s and e <= first and not any(0 <= s - ne <= 1 for _, ne in ctx.negations):
            return "resolved"
    for s, e in ctx.resolutions_after:
        # "it has not gone away", "no se me ha pasado": a negated resolution is no resolution
        if after <= s and e <= hi and not any(0 <= s - ne <= 1 for _, ne in ctx.negations):
            return "resolved"
    if affirmed:
        return None
    for s, e in ctx.negations:
        if lo <= s and e <= first and first - e < window:
            return "negated"
    return None


_TEMPERATURE: Final = re.compile(
    r"(?<![\d.,])(\d{2,3})(?:[.,](\d{1,2}))?(?![\d])\s*(°|º|grados?|degrees?|deg)?\s*"
    r"(c\b|f\b|celsius|centigrados?|fahrenheit)?"
)


def _temperatures(text: str, clause: _Clause, prep: _Prepared) -> list[tuple[float, int, int]]:
    """Body temperatures in °C in one clause, with the original offsets of the reading."""
    if not clause.tokens:
        return []
    lo, hi = clause.tokens[0].start, clause.tokens[-1].end
    context = bool(prep.matcher.phrases_in(clause.tokens, prep.temperature_words))
    out: list[tuple[float, int, int]] = []
    segment = text[lo:hi]
    for found in _TEMPERATURE.finditer(segment.lower()):
        whole, fraction, degree, unit = found.groups()
        value = float(f"{whole}.{fraction}") if fraction else float(whole)
        # a bare decimal between 35 and 43 ("tuve 38,5 anoche") reads as a temperature in °C
        if not (degree or unit or context or (fraction and 35.0 <= value < 43.0)):
            continue
        fahrenheit = unit in ("f", "fahrenheit") or (unit is None and 95.0 <= value <= 110.0)
        celsius = (value - 32.0) * 5.0 / 9.0 if fahrenheit else value
        if not 34.0 <= celsius <= 43.5:
            continue
        end = found.end()
        while end > found.start() and segment[end - 1].isspace():
            end -= 1
        out.append((round(celsius, 1), lo + found.start(), lo + end))
    return out


def read_symptoms(text: str | None, vocab: SymptomVocabulary, *, fever_c: float = 38.0) -> Reading:
    """Read one free text; return the signs that count (worst first) and the ones set aside.

    ``fever_c`` is the triage rules' fever threshold (``$fever_c``), so a site that changes it changes it here too.
    """
    if not text or not text.strip():
        return Reading()
    prep = _prepare(vocab)
    found: list[tuple[int, int, SymptomMatch]] = []  # (order, -urgency, match)
    suppressed: list[Suppressed] = []
    covered: list[tuple[int, int]] = []  # original offsets of every rule or benign span, counted or not
    order = {rule.id: i for i, rule in enumerate(vocab.rules)}
    window = vocab.negation_window
    for clause in _clauses(text, prep.conjunctions):
        tokens = clause.tokens
        ctx = _context(clause, prep)
        benign: list[tuple[int, int]] = []
        for slots in prep.benign:
            benign.extend(prep.matcher.find_all(tokens, slots))
        for s, e in benign:
            covered.append((tokens[s].start, tokens[e - 1].end))
        for rule, language, slots in prep.rules:
            for first, after in prep.matcher.find_all(tokens, slots):
                start, end = tokens[first].start, tokens[after - 1].end
                covered.append((start, end))
                words = text[start:end]
                if any(bs <= first and after <= be for bs, be in benign) or any(
                    first <= bs and be <= after for bs, be in benign
                ):
                    suppressed.append(Suppressed(words, start, end, rule.id, "benign"))
                    continue
                status = _status(clause, ctx, first, after, window)
                if status is None and _negated_inside(prep, tokens, ctx, first, after, slots):
                    status = "negated"
                level: Level = rule.level
                if status is not None:
                    if not ctx.uncertain:
                        suppressed.append(Suppressed(words, start, end, rule.id, status))
                        continue
                    level = "review"
                match = SymptomMatch(
                    words,
                    start,
                    end,
                    rule.id,
                    level,
                    rule.sources,
                    rule.label,
                    rule.meaning,
                    rule.clinician,
                    ctx.uncertain,
                    language,
                )
                found.append((order[rule.id], start, match))
        temperature_rule = vocab.rule(vocab.temperature_rule)
        for celsius, start, end in _temperatures(text, clause, prep):
            covered.append((start, end))
            if celsius >= fever_c:
                match = SymptomMatch(
                    text[start:end],
                    start,
                    end,
                    temperature_rule.id,
                    temperature_rule.level,
                    temperature_rule.sources,
                    temperature_rule.label,
                    temperature_rule.meaning,
                    temperature_rule.clinician,
                    ctx.uncertain,
                )
                found.append((order[temperature_rule.id], start, match))
        for slots in prep.signs:
            for first, after in prep.matcher.find_all(tokens, slots):
                start, end = tokens[first].start, tokens[after - 1].end
                if any(cs < end and start < ce for cs, ce in covered):
                    continue
                words = text[start:end]
                status = _status(clause, ctx, first, after, window)
                if status is not None and not ctx.uncertain:
                    suppressed.append(Suppressed(words, start, end, UNCLASSIFIED, status))
                    continue
                covered.append((start, end))
                match = SymptomMatch(
                    words,
                    start,
                    end,
                    UNCLASSIFIED,
                    "review",
                    vocab.unclassified_sources,
                    vocab.unclassified_label,
                    vocab.unclassified_meaning,
                    vocab.unclassified_clinician,
                    ctx.uncertain,
                )
                found.append((len(order), start, match))
    unique = {(x.start, x.end, x.rule): x for x in suppressed}
    return Reading(_keep_outermost(found), tuple(unique.values()))


def _keep_outermost(found: list[tuple[int, int, SymptomMatch]]) -> tuple[SymptomMatch, ...]:
    """Drop a match lying inside one of the same or a higher level; worst first, then rule order, then place."""
    ranked = sorted(found, key=lambda item: (-_URGENCY[item[2].level], item[0], item[1]))
    kept: list[SymptomMatch] = []
    for _, _, match in ranked:
        if any(
            k.start <= match.start and match.end <= k.end and _URGENCY[k.level] >= _URGENCY[match.level] for k in kept
        ):
            continue
        kept.append(match)
    return tuple(kept)
