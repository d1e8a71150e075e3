"""Searching several workspace roots ranks as one index would (issue 12, bug 3).

Each root's keyword scores used to be normalised by that root's own statistics and best
score, and the query was embedded once per root: a hit's place depended on which root
held it. Two roots of unequal size must now rank exactly as one root holding both as
subfolders, with the query embedded once."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.support.fakes import FakeEncoder

from codesearch.config import Settings
from codesearch.service import IndexService
from codesearch.workspace import Workspace

BIG = {  # many entities, the query words common: low keyword weight per match
    "uploads/retry.py": (
        "def retry_failed_upload(client, path):\n"
        "    '''Upload a file again after a failure, with backoff.'''\n"
        "    return client.upload(path, retries=3)\n\n"
        "def upload_chunk(client, chunk):\n    return client.put(chunk)\n\n"
        "def upload_progress(done, total):\n    return done / total\n"
    ),
    "uploads/queue.py": (
        "class UploadQueue:\n"
        "    def push(self, item):\n        self.items.append(item)\n\n"
        "    def drain_failed(self):\n        return [i for i in self.items if i.failed]\n"
    ),
    "net/http.py": (
        "def fetch_page(url):\n    return get(url).text\n\n"
        "def post_form(url, form):\n    return post(url, data=form)\n\n"
        "def backoff_delay(attempt):\n    return min(60, 2 ** attempt)\n"
    ),
    "text/words.py": (
        "def split_words(text):\n    return text.split()\n\n"
        "def count_words(text):\n    return len(split_words(text))\n"
    ),
}
SMALL = {  # few entities, one matching well: per-root normalisation lifted it unfairly
    "sync/resend.py": (
        "def resend_after_failure(job):\n"
        "    '''Retry a failed upload job once more.'''\n"
        "    return job.retry()\n\n"
        "def parse_settings(raw):\n    return dict(raw)\n"
    ),
}
QUERIES = ["retry failed upload", "upload", "backoff delay", "split words", "resend"]


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


class Silent:
    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path, Path]:
    big, small, both = tmp_path / "big", tmp_path / "small", tmp_path / "both"
    write_tree(big, BIG)
    write_tree(small, SMALL)
    shutil.copytree(big, both / "big")
    shutil.copytree(small, both / "small")
    return big, small, both


def test_two_roots_rank_as_one_root_holding_both(
    roots: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    big, small, both = roots
    encoder = FakeEncoder()
    service = IndexService(Settings(store_dir=str(tmp_path / "stores")), Silent(), encoder=encoder)
    try:
        service.add_folder(big)
        service.add_folder(small)
        assert service.wait_idle(30)
        with Workspace(both, Settings(), encoder=FakeEncoder(), store_dir=tmp_path / "one") as one:
            one.index()
            for query in QUERIES:
                calls = len(encoder.calls)
                together = [
                    (f"{rh.root.name}/{rh.hit.path}", rh.hit.name, rh.hit.score)
                    for rh in service.search(query, limit=20)
                ]
                assert len(encoder.calls) == calls + 1, "the query is embedded once"
                alone = [(h.path, h.name, h.score) for h in one.search(query, limit=20)]
                assert [t[:2] for t in together] == [a[:2] for a in alone], query
                assert [t[2] for t in together] == pytest.approx([a[2] for a in alone], abs=1e-6)
    finally:
        service.shutdown()


def test_a_root_holding_no_index_yet_does_not_change_the_ranking(
    roots: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    big, _, _ = roots
    empty = tmp_path / "empty"
    empty.mkdir()
    service = IndexService(Settings(store_dir=str(tmp_path / "s")), Silent(), encoder=FakeEncoder())
    try:
        service.add_folder(big)
        assert service.wait_idle(30)
        before = [(rh.hit.name, rh.hit.score) for rh in service.search("upload")]
        service.add_folder(empty)
        assert service.wait_idle(30)
        assert [(rh.hit.name, rh.hit.score) for rh in service.search("upload")] == before
    finally:
        service.shutdown()
