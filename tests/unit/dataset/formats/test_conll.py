from __future__ import annotations

from toolkit.dataset.formats.conll import conll_block
from toolkit.nlp.alignment import Tokens


def test_a_paragraph_break_ends_a_sentence_and_spaces_in_words_become_underscores(make_doc):
    text = "Angela Merkel\n\nParis\u00a0Match ok"
    doc = make_doc(text)
    tokens = Tokens.of(doc, text)
    words = [tokens.texts[i] for i in tokens.words]
    tags = ["B-PERSON", "I-PERSON"] + ["O"] * (len(words) - 2)
    block = conll_block(tokens, tags)
    assert block.startswith("-DOCSTART- -X- -X- O\n\nAngela -X- _ B-PERSON\nMerkel -X- _ I-PERSON\n\n")
    assert block.endswith("ok -X- _ O\n\n")
    assert all(len(line.split(" ")) == 4 for line in block.splitlines()[2:] if line)


def test_an_article_without_words_is_only_its_docstart_line(make_doc):
    doc = make_doc("   ")
    assert conll_block(Tokens.of(doc, "   "), []) == "-DOCSTART- -X- -X- O\n\n"
