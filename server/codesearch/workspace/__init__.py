"""One workspace root: which files (selection), what is indexed (catalog), how changes get
in (pipeline), and the Workspace facade the CLI and the server drive."""

from codesearch.workspace.facade import Workspace
from codesearch.workspace.model import ModelLoader
from codesearch.workspace.queries import SearchHits, search_workspaces
from codesearch.workspace.reports import CatalogCounts, FileProblem, IndexProgress, IndexSummary

__all__ = [
    "CatalogCounts",
    "FileProblem",
    "IndexProgress",
    "IndexSummary",
    "ModelLoader",
    "SearchHits",
    "Workspace",
    "search_workspaces",
]
