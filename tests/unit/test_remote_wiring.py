"""The embedding endpoint and the shared cache as settings, and a remote model's identity in
the workspace and the service, with fakes (the real endpoint and Redis: tests/remote).

A remote model's identity is the fingerprint of its vectors, so it needs the network: the
workspace opens under the identity its store recorded when the endpoint is down, never
moves another model's index aside before the new model answers, and switches stores once
the endpoint answers as another model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.support.fakes import FakeEncoder

from codesearch import cli
from codesearch.cli import commands as cli_commands
from codesearch.config import SETTINGS, Settings, parse_settings
from codesearch.embedding.types import (
    Encoder,
    ModelLoadError,
    QueryEmbeddingUnavailable,
    Vectors,
)
from codesearch.service import IndexService
from codesearch.service.status import StatusTracker
from codesearch.workspace import ModelLoader, Workspace

SECRET = "sk-live-0123456789abcdef"
REMOTE_ID = "remote:32:0123456789abcdef"


# -- settings, flags, environment -------------------------------------------------------------
def test_the_environment_fills_the_remote_settings_and_a_setting_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODESEARCH_EMBED_URL", "http://gpu-box:8080/v1")
    monkeypatch.setenv("CODESEARCH_EMBED_MODEL", "bge-small")
    monkeypatch.setenv("CODESEARCH_SHARED_CACHE", "redis://cache:6379/0")
    monkeypatch.setenv("CODESEARCH_SHARED_CACHE_PREFIX", "team-a")
    filled = Settings().with_env_defaults()
    assert (filled.embed_url, filled.embed_model) == ("http://gpu-box:8080/v1", "bge-small")
    assert (filled.shared_cache, filled.shared_cache_prefix) == ("redis://cache:6379/0", "team-a")
    assert filled.remote
    assert Settings(embed_model="mine").with_env_defaults().embed_model == "mine"
    assert not Settings().remote


def test_every_environment_variable_is_named_where_users_read_the_setting() -> None:
    for spec in SETTINGS:
        if spec.env:
            assert f"`{spec.env}`" in spec.description, spec.key


def test_settings_that_can_send_code_or_keys_elsewhere_are_user_settings_only() -> None:
    """A repository's .vscode/settings.json must not point the server at another host."""
    scopes = {spec.key: spec.scope for spec in SETTINGS}
    assert scopes["embedUrl"] == scopes["embedApiKeyEnv"] == scopes["sharedCache"] == "machine"


def test_bad_values_are_refused_without_repeating_them() -> None:
    settings, errors = parse_settings(
        {
            "embedApiKeyEnv": SECRET,  # the key pasted where its variable's name belongs
            "embedUrl": f"ftp://user:{SECRET}@host/v1",
            "sharedCache": f"http://:{SECRET}@cache:6379",
            "sharedCachePrefix": "team a!",
            "embedConcurrency": 0,
        }
    )
    assert len(errors) == 5
    assert all(SECRET not in error for error in errors)
    assert any("embedApiKeyEnv" in e and "name of an environment variable" in e for e in errors)
    assert any("embedUrl" in e and "http://" in e for e in errors)
    assert any("sharedCache" in e and "redis://" in e for e in errors)
    assert settings == Settings()


def test_settings_never_show_their_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(
        embed_url=f"http://user:{SECRET}@gpu:8080/v1", shared_cache=f"redis://:{SECRET}@c:6379"
    )
    assert SECRET not in repr(settings) and SECRET not in str(settings)


def test_flags_fill_the_settings_and_bad_ones_are_refused_without_repeating_them() -> None:
    parser = cli.build_parser()
    args = parser.parse_args(
        ["index", ".", "--embed-url", "http://gpu:8080/v1", "--embed-model", "bge-small",
         "--embed-batch-size", "32", "--embed-concurrency", "8", "--shared-cache",
         "rediss://cache:6380/1", "--shared-cache-prefix", "team-a",
         "--embed-api-key-env", "TEAM_EMBED_KEY"]
    )  # fmt: skip
    settings = cli_commands._settings(args)
    assert (settings.embed_url, settings.embed_model) == ("http://gpu:8080/v1", "bge-small")
    assert (settings.embed_batch_size, settings.embed_concurrency) == (32, 8)
    assert (settings.shared_cache, settings.shared_cache_prefix) == (
        "rediss://cache:6380/1",
        "team-a",
    )
    assert settings.embed_api_key_env == "TEAM_EMBED_KEY"
    defaults = cli_commands._settings(parser.parse_args(["index", "."]))
    assert (defaults.embed_batch_size, defaults.embed_concurrency) == (64, 4)
    for bad in (
        ["--embed-url", f"ftp://u:{SECRET}@host"],
        ["--shared-cache", f"http://:{SECRET}@cache"],
        ["--embed-api-key-env", SECRET + "!"],
        ["--embed-concurrency", "0"],
    ):
        with pytest.raises(cli.UsageError) as raised:
            parser.parse_args(["index", ".", *bad])
        assert SECRET not in str(raised.value) and bad[0] in str(raised.value)


def test_an_endpoint_without_a_model_name_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="embedModel"):
        Workspace(tmp_path, Settings(embed_url=f"http://u:{SECRET}@gpu:8080/v1"))
    with pytest.raises(ModelLoadError) as raised:
        Workspace(
            tmp_path, Settings(embed_url="http://gpu/v1", embed_model="m", embed_batch_size=0)
        )
    assert "at least 1" in str(raised.value)


# -- a remote model's identity in the workspace -----------------------------------------------
class FakeRemote(FakeEncoder):
    """A connected remote model as the workspace sees one: texts, a query path with its own
    failure, and a `problem` while its endpoint is down."""

    takes_token_ids = False

    def __init__(self, model_id: str = REMOTE_ID) -> None:
        super().__init__(model_id=model_id)
        self.problem: str | None = None
        self.query_down = False

    def embed_query(self, text: str) -> Vectors:
        if self.query_down:
            raise QueryEmbeddingUnavailable("timed out")
        vector: Vectors = self.encode([text])[0]
        return vector


class Endpoint:
    """A provisional loader whose endpoint is up (answering with `encoder`) or down."""

    def __init__(self, encoder: FakeRemote | None) -> None:
        self.encoder = encoder
        self.connects = 0

    def connect(self) -> Encoder:
        self.connects += 1
        if self.encoder is None:
            raise ModelLoadError("cannot start the remote model: connection refused")
        return self.encoder

    def loader(self) -> ModelLoader:
        return ModelLoader("", "fake @ http://gpu/v1", self.connect, provisional=True)


def workspace(root: Path, store: Path, endpoint: Endpoint) -> Workspace:
    return Workspace(root, Settings(), model_loader=endpoint.loader(), store_dir=store)


def test_a_remote_model_that_cannot_answer_leaves_another_models_index_alone(
    workspace_copy: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    local = FakeEncoder(model_id="local-model")
    with Workspace(workspace_copy, Settings(), encoder=local, store_dir=store) as ws:
        built = ws.index().entities
    with pytest.raises(ModelLoadError, match="connection refused"):
        workspace(workspace_copy, store, Endpoint(None)).open()
    assert not list(tmp_path.glob("store.old-model-*"))  # nothing moved aside
    with Workspace(workspace_copy, Settings(), encoder=local, store_dir=store) as ws:
        again = ws.index()
        assert (again.entities, again.embedded) == (built, 0)


def test_down_at_start_the_index_opens_under_its_recorded_identity_and_searches_keywords(
    workspace_copy: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    with workspace(workspace_copy, store, Endpoint(FakeRemote())) as ws:
        built = ws.index().entities
    down = Endpoint(None)
    with workspace(workspace_copy, store, down) as ws:
        assert ws.model_id == REMOTE_ID and ws.counts().entities == built
        summary = ws.index()  # nothing changed: no model needed, nothing lost
        assert (summary.entities, summary.embedded, summary.failed) == (built, 0, 0)
        hits = ws.search("retry failed upload")
        assert hits[0].name == "retry_failed_upload" and hits[0].dense_score == 0.0
        assert hits.notice is not None and "connection refused" in hits.notice
        assert ws.embedding_problem is not None and "connection refused" in ws.embedding_problem
        assert ws.status().embedding_problem == ws.embedding_problem


def test_a_query_the_endpoint_cannot_answer_in_time_ranks_by_keywords_and_says_so(
    workspace_copy: Path, tmp_path: Path
) -> None:
    remote = FakeRemote()
    with workspace(workspace_copy, tmp_path / "store", Endpoint(remote)) as ws:
        ws.index()
        assert ws.search("retry failed upload").notice is None
        remote.query_down = True
        hits = ws.search("retry failed upload")
        assert hits[0].name == "retry_failed_upload" and hits[0].dense_score == 0.0
        assert hits.notice == "query embedding unavailable: timed out"


def test_an_endpoint_that_answers_as_another_model_switches_stores_only_then(
    workspace_copy: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    with workspace(workspace_copy, store, Endpoint(FakeRemote())) as ws:
        built = ws.index().entities
    other = FakeRemote(model_id="remote:32:fedcba9876543210")
    with workspace(workspace_copy, store, Endpoint(other)) as ws:
        assert ws.model_id == REMOTE_ID  # opened offline, under what the store recorded
        hits = ws.search("retry failed upload")  # never a query vector of another model
        assert hits.notice is not None and "another model" in hits.notice
        assert hits[0].dense_score == 0.0
        summary = ws.index()
        assert ws.model_id == other.model_id
        assert (summary.entities, summary.embedded) == (built, built)
        assert len(list(tmp_path.glob("store.old-model-*"))) == 1  # the old index, kept
        assert ws.search("retry failed upload").notice is None


def test_a_remote_models_batches_fill_every_concurrent_request(
    workspace_copy: Path, tmp_path: Path
) -> None:
    class Preferring(FakeRemote):
        preferred_batch_size = 256

    remote = Preferring()
    with workspace(workspace_copy, tmp_path / "store", Endpoint(remote)) as ws:
        ws.index()
    assert len(remote.calls) == 1 and len(remote.calls[0]) >= 15  # one call, not one per 32


# -- the service says it once -----------------------------------------------------------------
def test_an_error_whose_words_change_is_reported_once_per_source() -> None:
    tracker = StatusTracker()
    assert tracker.fail("endpoint down (next try in 15 s)", source="model")
    assert not tracker.fail("endpoint down (next try in 30 s)", source="model")
    assert tracker.last_error == "endpoint down (next try in 30 s)"
    assert tracker.recover()
    assert tracker.fail("endpoint down (next try in 15 s)", source="model")
    assert tracker.tier_went_down("cache down") and not tracker.tier_went_down("cache down")
    assert not tracker.tier_went_down(None) and tracker.tier_went_down("cache down again")


class Recorder:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.statuses: list[dict[str, Any]] = []

    def on_error(self, message: str) -> None:
        self.errors.append(message)

    def on_status(self, status: Any) -> None:
        self.statuses.append(status.to_json())

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def test_an_endpoint_down_across_saves_is_one_error_then_recovery_clears_it(
    workspace_copy: Path, tmp_path: Path
) -> None:
    remote = FakeRemote()
    store = tmp_path / "store"
    listener = Recorder()
    service = IndexService(
        Settings(),
        listener,
        workspace_factory=lambda r, s: workspace(r, store, Endpoint(remote)),
    )
    try:
        service.add_folder(workspace_copy)
        assert service.wait_idle(30) and service.status().state.value == "idle"
        remote.problem = "embedding endpoint http://gpu/v1 is unavailable (next try in 15 s)"
        for number in range(3):
            (workspace_copy / "new.py").write_text(f"def added_{number}():\n    return 1\n")
            service.reindex().result(30)
            remote.problem = remote.problem.replace("15 s", f"{30 * (number + 1)} s")
        status = service.status()
        assert status.state.value == "error" and "unavailable" in (status.last_error or "")
        assert len(listener.errors) == 1 and "unavailable" in listener.errors[0]
        remote.problem = None
        service.reindex().result(30)
        assert service.status().state.value != "error" and service.status().last_error is None
        remote.query_down = True
        hits = service.search("retry failed upload")
        assert hits and hits.notice == "query embedding unavailable: timed out"
        assert service.status().notice == hits.notice
        remote.query_down = False
        assert service.search("retry failed upload").notice is None
        assert service.status().notice is None
    finally:
        service.shutdown()


def test_a_root_whose_remote_model_never_answered_is_opened_by_the_next_reindex(
    workspace_copy: Path, tmp_path: Path
) -> None:
    endpoint = Endpoint(None)
    listener = Recorder()
    service = IndexService(
        Settings(),
        listener,
        workspace_factory=lambda r, s: workspace(r, tmp_path / "store", endpoint),
    )
    try:
        service.add_folder(workspace_copy)
        assert service.wait_idle(30)
        assert service.roots == [workspace_copy.resolve()]
        assert service.status().state.value == "error" and len(listener.errors) == 1
        endpoint.encoder = FakeRemote()
        [summary] = service.reindex().result(30)
        assert summary is not None and summary.entities >= 15
        assert service.status().state.value != "error"
    finally:
        service.shutdown()
