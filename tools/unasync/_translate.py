"""Translate the source text of one async module into its sync twin.

How: the source is split into tokens (``tokenize``); the rules (see rules.py for the three
kinds) turn tokens into edits, each a character span of the source and its replacement; the
edits are applied in one pass. Whatever no rule touches, layout and comments included, is
kept exactly, so a generated file diffs line for line against its source.

Rules on text (string literals, comments) match whole words only: a word is a maximal run
of identifier characters, so ``aclose`` matches in ``"x.aclose()"`` but not in ``_aclose``.
On Python 3.12+ an f-string arrives as several tokens; it is reassembled and treated as one
string, exactly as Python 3.9-3.11 tokenize it, so the output does not depend on the
interpreter that runs the tool.

Invariants: edits never overlap (a token is claimed by at most one rule, and a dropped line
by nothing else); a rule counts as used when it produced at least one edit.
Cost: linear in the size of the source (one regex pass per string or comment token).
"""

from __future__ import annotations

import ast
import dataclasses
import io
import keyword
import re
import tokenize
from typing import AbstractSet, Mapping

# Token types that carry no code: the text of a dropped line is compared without them.
_LAYOUT = frozenset(
    {
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.COMMENT,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
    }
)
# Python 3.12+ only; -1 never matches a token type on older versions.
_FSTRING_START: int = getattr(tokenize, "FSTRING_START", -1)
_FSTRING_END: int = getattr(tokenize, "FSTRING_END", -1)


class TranslationError(Exception):
    """The source cannot be tokenized, or its translation is not valid Python."""


@dataclasses.dataclass(frozen=True)
class _Sequence:
    """A run of code words (``async def``) and what replaces it."""

    words: tuple[str, ...]
    replacement: str
    key: str


@dataclasses.dataclass(frozen=True)
class RuleTable:
    """The rules of rules.py sorted by kind, ready to apply."""

    names: Mapping[str, str]
    sequences: tuple[_Sequence, ...]  # longest first
    dropped_lines: Mapping[str, str]  # code without whitespace -> the rule's key
    name_pattern: re.Pattern[str] | None  # every name as a whole word, for text

    @property
    def keys(self) -> AbstractSet[str]:
        """Every rule of the table, by its key in rules.py."""
        return {
            *self.names,
            *(sequence.key for sequence in self.sequences),
            *self.dropped_lines.values(),
        }


def compile_rules(rules: Mapping[str, str | None]) -> RuleTable:
    """Sort a rules.py-style table by kind. Raises ValueError for an entry of no known kind."""
    names: dict[str, str] = {}
    sequences: list[_Sequence] = []
    dropped: dict[str, str] = {}
    for key, replacement in rules.items():
        if replacement is None:
            dropped["".join(key.split())] = key
        elif key.isidentifier() and not keyword.iskeyword(key):
            if not replacement.isidentifier():
                raise ValueError(f"rule {key!r}: a name must be replaced by a name, not {replacement!r}")
            names[key] = replacement
        elif all(word.isidentifier() for word in key.split(" ")):
            if replacement and not all(word.isidentifier() for word in replacement.split(" ")):
                raise ValueError(f"rule {key!r}: replace code words by code words, not {replacement!r}")
            sequences.append(_Sequence(tuple(key.split(" ")), replacement, key))
        else:
            raise ValueError(f"rule {key!r}: not a name, a run of code words, or a line to drop")
    sequences.sort(key=lambda sequence: -len(sequence.words))
    pattern = None
    if names:
        alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
        pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
    return RuleTable(names, tuple(sequences), dropped, pattern)


@dataclasses.dataclass(frozen=True)
class Translation:
    """The sync source, and the keys of the rules that changed something."""

    text: str
    used: AbstractSet[str]


def translate(source: str, table: RuleTable) -> Translation:
    """Apply ``table`` to ``source``. Raises TranslationError (see the class)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError) as error:
        raise TranslationError(f"cannot tokenize: {error}") from error
    editor = _Editor(source, table)
    skipped = editor.drop_lines(tokens)
    editor.substitute(tokens, skipped)
    text = editor.result()
    try:
        ast.parse(text)
    except SyntaxError as error:
        raise TranslationError(f"the translation is not valid Python: {error}") from error
    return Translation(text, frozenset(editor.used))


class _Editor:
    """Collects the edits of one source, then applies them."""

    def __init__(self, source: str, table: RuleTable) -> None:
        self.source = source
        self.table = table
        self.edits: list[tuple[int, int, str]] = []
        self.used: set[str] = set()
        # Offset of the first character of each line; tokenize numbers lines from 1 and
        # may report a position one line past the end (ENDMARKER).
        self.line_starts = [0] + [match.end() for match in re.finditer("\n", source)]
        self.line_starts.append(len(source))

    def offset(self, position: tuple[int, int]) -> int:
        row, column = position
        return self.line_starts[row - 1] + column

    def drop_lines(self, tokens: list[tokenize.TokenInfo]) -> set[int]:
        """Delete the logical lines that are a drop rule; return their tokens' indices."""
        skipped: set[int] = set()
        if not self.table.dropped_lines:
            return skipped
        line: list[int] = []
        for index, token in enumerate(tokens):
            line.append(index)
            if token.type not in (tokenize.NEWLINE, tokenize.ENDMARKER):
                continue
            code = [tokens[i] for i in line if tokens[i].type not in _LAYOUT]
            key = self.table.dropped_lines.get("".join(t.string for t in code)) if code else None
            if key is not None:
                first_row, last_row = code[0].start[0], code[-1].end[0]
                self.edits.append((self.line_starts[first_row - 1], self.line_starts[last_row], ""))
                self.used.add(key)
                # Comment lines just above the dropped line stay, and are translated.
                skipped.update(i for i in line if tokens[i].start[0] >= first_row)
            line = []
        return skipped

    def substitute(self, tokens: list[tokenize.TokenInfo], skipped: set[int]) -> None:
        """Apply the name and sequence rules to code and the name rules to text."""
        index = 0
        while index < len(tokens):
            token = tokens[index]
            if index in skipped:
                index += 1
            elif token.type == tokenize.NAME:
                index = self._substitute_code(tokens, index)
            elif token.type in (tokenize.STRING, tokenize.COMMENT):
                self._substitute_text(self.offset(token.start), self.offset(token.end))
                index += 1
            elif token.type == _FSTRING_START:
                last = _fstring_end(tokens, index)
                self._substitute_text(self.offset(token.start), self.offset(tokens[last].end))
                index = last + 1
            else:
                index += 1

    def _substitute_code(self, tokens: list[tokenize.TokenInfo], index: int) -> int:
        """Apply rules at the name token ``tokens[index]``; return the next index to look at."""
        for sequence in self.table.sequences:
            run = tokens[index : index + len(sequence.words)]
            if len(run) == len(sequence.words) and all(
                t.type == tokenize.NAME and t.string == word for t, word in zip(run, sequence.words)
            ):
                start, end = self.offset(run[0].start), self.offset(run[-1].end)
                if not sequence.replacement:
                    while end < len(self.source) and self.source[end] in " \t":
                        end += 1
                self.edits.append((start, end, sequence.replacement))
                self.used.add(sequence.key)
                return index + len(run)
        token = tokens[index]
        replacement = self.table.names.get(token.string)
        if replacement is not None:
            self.edits.append((self.offset(token.start), self.offset(token.end), replacement))
            self.used.add(token.string)
        return index + 1

    def _substitute_text(self, start: int, end: int) -> None:
        pattern = self.table.name_pattern
        if pattern is None:
            return
        text = self.source[start:end]

        def rename(match: re.Match[str]) -> str:
            self.used.add(match.group(0))
            return self.table.names[match.group(0)]

        renamed = pattern.sub(rename, text)
        if renamed != text:
            self.edits.append((start, end, renamed))

    def result(self) -> str:
        pieces: list[str] = []
        position = 0
        for start, end, replacement in sorted(self.edits):
            if start < position:  # a bug in the rules' kinds, not in the source
                raise TranslationError(f"two rules edit the text at offset {start}")
            pieces.append(self.source[position:start])
            pieces.append(replacement)
            position = end
        pieces.append(self.source[position:])
        return "".join(pieces)


def _fstring_end(tokens: list[tokenize.TokenInfo], start: int) -> int:
    """The index of the FSTRING_END token that closes the f-string opened at ``start``."""
    depth = 0
    for index in range(start, len(tokens)):
        if tokens[index].type == _FSTRING_START:
            depth += 1
        elif tokens[index].type == _FSTRING_END:
            depth -= 1
            if depth == 0:
                return index
    raise TranslationError("unterminated f-string")
