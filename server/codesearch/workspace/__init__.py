"""One workspace root: which files (selection), what is indexed (catalog), how changes get
in (pipeline), and the Workspace facade the CLI and the server drive."""

from codesearch.workspace.facade import Workspace
from codesearch.workspace.model import ModelLoader
from codesearch.workspace.queries import SearchHits, search_workspaces
from codesearch.workspace.reports import (
    CatalogCounts,
    FileProblem,
    IndexProgress,
    IndexSummary,
    MissingEntity,
    MissingFile,
    ProblemReport,
    WorkspaceStatus,
)

__all__ = [
    "CatalogCounts",
    "FileProblem",
    "IndexProgress",
    "IndexSummary",
    "MissingEntity",
    "MissingFile",
    "ModelLoader",
    "ProblemReport",
    "SearchHits",
    "Workspace",
    "WorkspaceStatus",
    "search_workspaces",
]
