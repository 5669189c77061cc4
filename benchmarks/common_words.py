"""Write knowledge/common_words.txt: everyday English words, from wordfreq's frequency lists.

    .venv/bin/pip install '.[bench]' && .venv/bin/python -m benchmarks.common_words

A question's word the knowledge does not have weighs the most when it may be a name (Graviton7,
Cobalt): the question is about something else. An everyday word (belong, segment, fix, special) is
just how someone phrased it, and weighs much less. wordfreq tells the two apart; the list is written
into the package so the bot itself does not depend on wordfreq (57 MB) at run time.
"""

from __future__ import annotations

from pathlib import Path

from wordfreq import top_n_list, zipf_frequency

from knowledge.normalize import COMMON_WORDS_PATH

ZIPF = 4.2
"""At least this frequent (about once in 16,000 words): `segment` (4.3) is, `intel` (4.1) is not."""
CANDIDATES = 30_000


def common_words() -> list[str]:
    words = top_n_list("en", CANDIDATES)
    return sorted(
        {w for w in words if w.isascii() and w.isalpha() and len(w) >= 3 and zipf_frequency(w, "en") >= ZIPF}
    )


def main() -> None:
    words = common_words()
    header = (
        f"# Everyday English words (wordfreq zipf >= {ZIPF}); regenerate: python -m benchmarks.common_words\n"
    )
    Path(COMMON_WORDS_PATH).write_text(header + "\n".join(words) + "\n", encoding="utf-8")
    print(f"wrote {len(words)} words to {COMMON_WORDS_PATH}")


if __name__ == "__main__":
    main()
