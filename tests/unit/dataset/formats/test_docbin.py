from __future__ import annotations

import datasets

from tests.unit.dataset.builders import rows_of
from toolkit.dataset import export
from toolkit.records import tag_names


def test_docbin_and_conll_come_from_the_same_alignment(tmp_path, source, config, make_doc):
    import spacy
    from spacy.tokens import DocBin

    vocab = spacy.blank("en").vocab
    result = export(source, config=config, out=tmp_path / "out", make_doc=make_doc)
    rows = rows_of(result.path)
    names = tag_names(config.labels)
    # The n-th doc of a split's DocBin shards is the n-th row of the split.
    docs = {}
    loaded = datasets.load_from_disk(str(result.path))
    for split in config.export.splits:
        split_docs = [
            doc
            for path in sorted((result.path / "spacy").glob(f"{split}-*.spacy"))
            for doc in DocBin().from_disk(path).get_docs(vocab)
        ]
        assert [doc.text for doc in split_docs] == loaded[split]["text"]
        docs.update({article_id: (split, doc) for article_id, doc in zip(loaded[split]["id"], split_docs)})
    assert set(docs) == set(rows)
    for article_id, (split, doc) in docs.items():
        assert split == rows[article_id]["split"]
        iob = [f"{t.ent_iob_}-{t.ent_type_}" if t.ent_iob_ != "O" else "O" for t in doc if not t.is_space]
        assert iob == [names[t] for t in rows[article_id]["ner_tags"]]
    assert [(e.start_char, e.end_char, e.label_) for e in docs["planted"][1].ents] == [(7, 13, "ORG")]
    conll_tags: list[list[str]] = []
    for split in config.export.splits:
        for block in (result.path / "conll" / f"{split}.conll").read_text().split("-DOCSTART- -X- -X- O\n\n")[1:]:
            conll_tags.append([line.split(" ")[-1] for line in block.splitlines() if line])
    assert sorted(conll_tags) == sorted([names[t] for t in row["ner_tags"]] for row in rows.values())


def test_every_split_has_a_shard_even_without_rows(tmp_path, config, make_doc):
    from spacy.tokens import DocBin

    from tests.unit.dataset.builders import annotated, write_jsonl

    source = write_jsonl(tmp_path / "a.jsonl", [annotated("only", [], text="Paris.")])
    result = export(source, config=config, out=tmp_path / "out", make_doc=make_doc)
    for split in config.export.splits:
        (shard,) = sorted((result.path / "spacy").glob(f"{split}-*.spacy"))
        assert len(DocBin().from_disk(shard)) == result.stats.rows_per_split[split]
