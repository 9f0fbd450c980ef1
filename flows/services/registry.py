"""The interviewee registry's words to hide: adding and removing one keeps the others.

Words are stored as `pipeline.terms.IdentifyingWord` specs ("Yusuf Darwish=his cousin"). Two
spellings that fold alike (`pipeline.terms.fold`) are one word: adding it again replaces its
replacement; removing names it by its term in any spelling.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.terms import IdentifyingWord, TermError, fold


def edit_identifying_words(current: Sequence[str], add: Sequence[str] = (),
                           remove: Sequence[str] = ()) -> tuple[str, ...]:
    """`current` with `add` added and `remove` removed, as specs. Raises TermError for a
    malformed spec (empty word or replacement) or a word to remove that is not there."""
    words = {fold(w.term): w for w in (IdentifyingWord.parse(s) for s in current if s.strip())}
    for spec in remove:
        if words.pop(fold(IdentifyingWord.parse(spec).term), None) is None:
            raise TermError("that identifying word is not in the registry entry (see `interviewee show`)")
    for spec in add:
        w = IdentifyingWord.parse(spec)
        words[fold(w.term)] = w
    return tuple(w.spec() for w in words.values())
