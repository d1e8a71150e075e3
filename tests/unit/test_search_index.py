"""The in-memory index and the hybrid ranking over it (fake vectors, exact expectations)."""

from __future__ import annotations

import numpy as np

from codesearch.index.search_index import SearchIndex
from codesearch.search import SearchFilters, rank
from codesearch.store import EntityRecord


def record(name: str, terms: str, kind: str = "function", language: str = "python") -> EntityRecord:
    return EntityRecord(name, kind, language, 1, 5, 0, 0, f"key-{name}", f"def {name}()", terms)


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def build() -> SearchIndex:
    index = SearchIndex(3, capacity=2)
    index.replace_file(
        "a.py",
        [record("upload", "upload upload upload file"), record("download", "download file")],
        [unit(1, 0, 0), unit(0, 1, 0)],
    )
    index.replace_file(
        "src/b.go",
        [record("Checksum", "checksum checksum checksum", language="go")],
        [unit(0, 0, 1)],
    )
    return index


def test_dense_ranking_follows_cosine() -> None:
    hits = rank(build(), "", unit(0.9, 0.1, 0), limit=3)
    assert [h.name for h in hits][:2] == ["upload", "download"]


def test_keyword_only_ranking_and_matched_terms() -> None:
    hits = rank(build(), "checksum", None, limit=3)
    assert hits[0].name == "Checksum" and hits[0].matched == ("checksum",)


def test_fusion_prefers_agreement_of_both_rankers() -> None:
    hits = rank(build(), "download", unit(0.6, 0.5, 0.0), limit=3)
    assert hits[0].name == "download"


def test_filters_language_kind_and_glob() -> None:
    index = build()
    q = unit(1, 1, 1)
    assert {h.name for h in rank(index, "", q, filters=SearchFilters(language="go"))} == {
        "Checksum"
    }
    assert {h.path for h in rank(index, "", q, filters=SearchFilters(path_glob="src/*"))} == {
        "src/b.go"
    }
    assert rank(index, "", q, filters=SearchFilters(kind="class")) == []


def test_replacing_and_removing_files_updates_results_and_reuses_rows() -> None:
    index = build()
    assert len(index) == 3 and index.file_count == 2
    index.replace_file("a.py", [record("upload", "upload")], [unit(1, 0, 0)])
    assert len(index) == 2
    assert [h.name for h in rank(index, "download", None)] == []
    index.remove_file("src/b.go")
    assert len(index) == 1 and index.paths() == ["a.py"]
    for i in range(10):  # grows past its capacity and keeps working
        index.replace_file(f"f{i}.py", [record(f"f{i}", "x")], [unit(1, 0, 1)])
    assert len(index) == 11


def test_excluded_rows_and_empty_index() -> None:
    assert rank(SearchIndex(3), "x", unit(1, 0, 0)) == []
    index = build()
    row = index.rows_of("a.py")[0]
    hits = rank(index, "", index.vector(row), exclude_rows={row})
    assert "upload" not in [h.name for h in hits]


def test_compaction_keeps_results_and_frees_dead_rows() -> None:
    index = build()
    for i in range(50):
        index.replace_file(f"f{i}.py", [record(f"f{i}", f"term{i} common")], [unit(1, 0, 1)])
    for i in range(0, 50, 2):
        index.remove_file(f"f{i}.py")
    before = {h.name for h in rank(index, "common", None, limit=100)}
    index.compact()
    after = {h.name for h in rank(index, "common", None, limit=100)}
    assert before == after == {f"f{i}" for i in range(1, 50, 2)}
    assert len(index) == 3 + 25
    assert rank(index, "checksum", None)[0].name == "Checksum"
    assert rank(index, "", unit(0, 0, 1), limit=1)[0].name == "Checksum"
    assert index.rows_of("src/b.go") and index.entity(index.rows_of("src/b.go")[0]) is not None


def test_state_round_trip_gives_the_same_results() -> None:
    import pickle

    index = build()
    index.remove_file("src/b.go")
    index.replace_file("c.py", [record("Checksum", "checksum checksum")], [unit(0, 0, 1)])
    copy = SearchIndex.from_state(pickle.loads(pickle.dumps(index.to_state())))
    assert len(copy) == len(index) == 3 and copy.paths() == index.paths()
    for query, vector in (("checksum", None), ("", unit(1, 0.2, 0)), ("file", unit(0, 1, 0))):
        assert [h.name for h in rank(copy, query, vector)] == [
            h.name for h in rank(index, query, vector)
        ]
    copy.replace_file("d.py", [record("fresh", "fresh")], [unit(1, 1, 0)])
    assert rank(copy, "fresh", None)[0].name == "fresh"


def test_searches_stay_consistent_while_files_are_replaced() -> None:
    """A save replaces a file's rows (growing and compacting the index) while searches run
    on other threads: every search must see one consistent index. Before ranking held the
    index still, the rows of one call no longer matched the next ("operands could not be
    broadcast together") under a burst of saves."""
    import threading

    rng = np.random.default_rng(7)
    index = SearchIndex(8, capacity=2)
    words = ["upload", "retry", "parse", "config", "socket", "cache"]

    def file_records(version: int) -> tuple[list[EntityRecord], list[np.ndarray]]:
        count = 1 + version % 7
        records = [
            record(f"f{version}_{i}", f"{words[i % 6]} {words[version % 6]}") for i in range(count)
        ]
        vectors = [v / np.linalg.norm(v) for v in rng.normal(size=(count, 8)).astype(np.float32)]
        return records, vectors

    for number in range(20):
        index.replace_file(f"m{number}.py", *file_records(number))
    errors: list[BaseException] = []
    stop = threading.Event()

    def search() -> None:
        query = unit(*([1.0] * 8))
        while not stop.is_set():
            try:
                for hit in rank(index, "retry upload", query, limit=5):
                    assert hit.name.startswith("f")
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)
                return

    searchers = [threading.Thread(target=search)]
    for thread in searchers:
        thread.start()
    for version in range(400):
        index.replace_file(f"m{version % 20}.py", *file_records(version))
    stop.set()
    for thread in searchers:
        thread.join(10)
    assert not errors, repr(errors[0])
    assert len(index) == sum(1 + v % 7 for v in range(380, 400))


def test_keyword_scores_are_bm25_of_each_bag() -> None:
    """Term frequencies and bag lengths as BM25 defines them (k1 1.2, b 0.75)."""
    index = build()
    scores = index.keyword_array(["upload", "file"])
    avg_len = (4 + 2 + 3) / 3

    def bm25(tf: int, df: int, length: int) -> float:
        idf = np.log(1 + (3 - df + 0.5) / (df + 0.5))
        return float(idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / avg_len)))

    expected = [bm25(3, 1, 4) + bm25(1, 2, 4), bm25(1, 2, 2), 0.0]
    np.testing.assert_allclose(scores, expected, rtol=1e-5)
    assert sorted(index.row_terms(0)) == ["file", "upload"]
