"""The semble benchmark harness end to end on tiny self-made repositories.

The real engine indexes them (with the fake encoder, so it is quick); what is checked is
what a reader of the results relies on: ten distinct files come out even when one file's
entities fill the first hits, paths are scored relative to the repository's top, the
report holds our numbers beside the published ones, and sync fails per repository with
one line.
"""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path

import pytest
from benchmarks.semble import engine, evaluate, misses, sync
from benchmarks.semble.data import load_repo_specs
from tests.support.fakes import FakeEncoder


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def spec(
    name: str, language: str, *, root: str | None = None, url: str = "u", revision: str = "r"
) -> dict[str, str | None]:
    """One repos.json entry."""
    return {
        "name": name,
        "language": language,
        "url": url,
        "revision": revision,
        "benchmark_root": root,
    }


def test_one_file_filling_the_first_hits_still_yields_ten_files(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    big = "".join(
        f"def retry_upload_{i}(chunk):\n    return retry_upload(chunk, {i})\n\n" for i in range(300)
    )
    write(root / "big.py", big)
    for i in range(11):
        write(root / f"small_{i}.py", f"def unrelated_thing_{i}(value):\n    return value\n")
    run = engine.search_repository(
        root,
        ["retry upload"],
        cache_dir=tmp_path / "cache",
        backend="onnx-int8",
        encoder=FakeEncoder(),
    )
    hits = run.hits[0]
    assert hits[0].path == "big.py"
    assert all(h.path == "big.py" for h in hits[: engine.FIRST_LIMIT])  # the first ask alone
    files = list(dict.fromkeys(h.path for h in hits))
    assert len(files) >= 10
    assert run.entities == 311


def _benchmark(tmp_path: Path) -> dict[str, Path]:
    repos = tmp_path / "repos"
    write(
        repos / "alpha" / "src" / "config.py",
        "def parse_config(path):\n    return open(path).read().split('=')\n",
    )
    write(
        repos / "alpha" / "src" / "server.py",
        "class Server:\n    def serve_forever(self):\n        while True:\n            pass\n",
    )
    write(repos / "alpha" / "tests" / "test_config.py", "def test_parse_config():\n    pass\n")
    write(
        repos / "beta" / "util.go",
        "package util\n\nfunc Reverse(s string) string {\n\treturn s\n}\n",
    )
    specs = [spec("alpha", "python", root="src"), spec("beta", "go"), spec("gamma", "go")]
    bench = tmp_path / "bench"
    write(bench / "repos.json", json.dumps(specs))
    write(
        bench / "annotations" / "alpha.json",
        json.dumps(
            [
                {"query": "parse_config", "relevant": ["src/config.py"], "secondary": []},
                {
                    "query": "how does the server loop run",
                    "relevant": [{"path": "src/server.py", "start_line": 1, "end_line": 4}],
                    "secondary": ["src/missing.py"],
                    "category": "architecture",
                },
            ]
        ),
    )
    write(
        bench / "annotations" / "beta.json",
        json.dumps([{"query": "Reverse", "relevant": ["util.go"], "secondary": []}]),
    )
    write(bench / "annotations" / "gamma.json", json.dumps([{"query": "x", "relevant": ["a.go"]}]))
    semble = {"repos": [{"repo": "alpha", "ndcg10": 0.5, "by_category": {"symbol": 0.25}}]}
    write(bench / "results" / "semble-hybrid-abc.json", json.dumps(semble))
    cre = {
        "repos": [
            {"repo": "alpha", "mode": "hybrid", "ndcg10": 0.75, "by_category": {}},
            {"repo": "alpha", "mode": "semantic", "ndcg10": 0.1, "by_category": {}},
        ]
    }
    write(bench / "results" / "coderankembed-abc.json", json.dumps(cre))
    return {"repos": repos, "bench": bench}


def test_evaluate_writes_our_scores_beside_the_published_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _benchmark(tmp_path)
    fake = functools.partial(engine.search_repository, encoder=FakeEncoder())
    monkeypatch.setattr(evaluate, "search_repository", fake)
    out = tmp_path / "results" / "semble.json"
    bench = paths["bench"]
    code = evaluate.main(
        [
            "--repos", str(paths["repos"]),
            "--annotations", str(bench / "annotations"),
            "--repos-json", str(bench / "repos.json"),
            "--cache-dir", str(tmp_path / "cache"),
            "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    report = json.loads(out.read_text())
    assert report["skipped"] == {"gamma": f"no checkout at {paths['repos'] / 'gamma'}"}
    alpha, beta = report["repos"]
    assert alpha["repo"] == "alpha" and alpha["entities"] == 3  # src/ only, not tests/
    assert alpha["semble"] == 0.5 and alpha["coderankembed_hybrid"] == 0.75
    assert beta["semble"] is None
    assert alpha["targets_missing_from_checkout"] == 1  # src/missing.py
    lines = [json.loads(line) for line in out.with_name("semble-queries.jsonl").open()]
    assert [q["query"] for q in lines] == [
        "parse_config",
        "how does the server loop run",
        "Reverse",
    ]
    symbol = lines[0]
    assert symbol["category"] == "symbol"  # guessed: one word
    assert symbol["top_files"][0] == "src/config.py"  # mapped below benchmark_root
    assert symbol["ndcg10"] == 1.0
    server = lines[1]
    assert server["targets"][0] == {"path": "src/server.py:1-4", "grade": "relevant", "rank": 1}
    assert server["targets"][1]["rank"] is None
    overall = report["overall"]
    assert overall["repos"] == 2 and overall["queries"] == 3
    assert overall["semble"] == 0.5 and overall["semble_repos"] == 1
    assert report["by_category"]["symbol"]["semble"] == 0.25
    assert set(report["by_language"]) == {"go", "python"}
    assert "| alpha | python | 2 |" in out.with_suffix(".md").read_text()


def test_evaluate_rejects_an_unknown_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = _benchmark(tmp_path)
    bench = paths["bench"]
    code = evaluate.main(
        [
            "--repos", str(paths["repos"]),
            "--annotations", str(bench / "annotations"),
            "--repos-json", str(bench / "repos.json"),
            "--repo", "nosuch",
        ]
    )  # fmt: skip
    assert code == 2
    assert "nosuch" in capsys.readouterr().err


def _git(*args: str, cwd: Path) -> str:
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    done = subprocess.run(["git", *identity, *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_sync_clones_to_the_pinned_revision_and_check_verifies_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    upstream = tmp_path / "upstream"
    write(upstream / "lib" / "a.py", "x = 1\n")
    _git("init", "-q", cwd=upstream)
    _git("add", ".", cwd=upstream)
    _git("commit", "-q", "-m", "one", cwd=upstream)
    pinned = _git("rev-parse", "HEAD", cwd=upstream)
    write(upstream / "lib" / "a.py", "x = 2\n")
    _git("commit", "-q", "-am", "two", cwd=upstream)
    specs = [
        spec("up", "python", root="lib", url=str(upstream), revision=pinned),
        spec("gone", "python", url=str(tmp_path / "nowhere"), revision=pinned),
    ]
    repos_json = write(tmp_path / "repos.json", json.dumps(specs))
    dest = tmp_path / "checkouts"

    assert sync.main(["--repos-json", str(repos_json), "--dest", str(dest)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("gone: FAILED: git clone failed:")  # one line, no traceback
    assert out[1] == f"up: cloned, at {pinned[:12]}"
    assert (dest / "up" / "lib" / "a.py").read_text() == "x = 1\n"

    args = ["--repos-json", str(repos_json), "--dest", str(dest), "--repo", "up", "--check"]
    assert sync.main(args) == 0
    _git("checkout", "-q", "--detach", "origin/HEAD", cwd=dest / "up")  # the newer commit
    head = _git("rev-parse", "HEAD", cwd=dest / "up")
    capsys.readouterr()
    assert sync.main(args) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        f"up: at {head[:12]}, not the pinned {pinned[:12]}"
    )


def test_misses_are_sorted_into_causes(tmp_path: Path) -> None:
    repos = tmp_path / "repos"
    write(repos / "demo" / "src" / "signals.py", "SIGNAL_A = 1\nSIGNAL_B = 2\n")
    write(repos / "demo" / "src" / "Session.kt", "class Session\n")
    write(repos / "demo" / "src" / "sessions.py", "class Session:\n    pass\n")
    write(repos / "demo" / "src" / "core.py", "def run_loop():\n    pass\n")
    specs = write(tmp_path / "repos.json", json.dumps([spec("demo", "python", root="src")]))
    checkouts = misses.Checkouts(repos, load_repo_specs(specs))

    def line(query: str, category: str, target: str, top: list[str]) -> dict[str, object]:
        return {
            "repo": "demo",
            "language": "python",
            "category": category,
            "query": query,
            "ndcg10": 0.0,
            "ndcg10_entities": 0.0,
            "targets": [{"path": target, "grade": "relevant", "rank": None}],
            "top_files": top,
            "top_hits": [f"{p}:1-2 function f" for p in top],
        }

    cases = {
        "nothing_extracted": line("signal constants", "semantic", "src/signals.py", []),
        "unparsed_language": line("session class", "semantic", "Session.kt", []),
        "symbol_case": line("session", "symbol", "src/sessions.py", []),
        "symbol_qualified": line("sessions.Session", "symbol", "src/sessions.py", []),
        "tests_above": line("main loop", "semantic", "src/core.py", ["src/tests/test_x.py"]),
        "not_in_hits": line("main loop", "semantic", "src/core.py", ["src/other.py"]),
        "not_in_checkout": line("gone", "semantic", "src/gone.py", []),
    }
    for cause, query in cases.items():
        assert misses.classify(query, query["targets"][0], checkouts) == cause  # type: ignore[index]
    report = misses.analyse(list(cases.values()), checkouts)
    assert report["missed_targets"] == len(cases)
    assert sum(c["ndcg10_lost"] for c in report["causes"].values()) == pytest.approx(1.0, abs=1e-3)
    assert report["nothing_extracted_files"] == {"python": {"demo/src/signals.py": 1}}


def test_targets_found_low_are_put_down_to_what_ranks_above_them(tmp_path: Path) -> None:
    repos = tmp_path / "repos"
    write(repos / "demo" / "session.py", "class Session:\n    pass\n")
    specs = write(tmp_path / "repos.json", json.dumps([spec("demo", "python")]))
    checkouts = misses.Checkouts(repos, load_repo_specs(specs))

    def line(query: str, category: str, top_hits: list[str]) -> dict[str, object]:
        files = list(dict.fromkeys(h.split(":", 1)[0] for h in top_hits))
        return {
            "repo": "demo",
            "language": "python",
            "category": category,
            "query": query,
            "ndcg10": 0.5,
            "ndcg10_entities": 0.5,
            "targets": [{"path": "session.py", "grade": "relevant", "rank": 3}],
            "top_files": files,
            "top_hits": top_hits,
        }

    report = misses.analyse(
        [
            line("session store", "semantic", ["a.py:1-2 function x", "tests/test_s.py:1-2 f y",
                                                "session.py:1-2 class Session"]),
            line("Session", "symbol", ["a.py:1-2 function session", "b.py:1-2 function x",
                                       "session.py:1-2 class Session"]),
            line("session store", "semantic", ["a.py:1-2 function x", "b.py:1-2 function y",
                                               "session.py:1-2 class Session"]),
        ],
        checkouts,
    )  # fmt: skip
    assert {cause: c["queries"] for cause, c in report["causes"].items()} == {
        "found_low_tests_above": 1,
        "found_low_symbol_case": 1,
        "found_low": 1,
    }
