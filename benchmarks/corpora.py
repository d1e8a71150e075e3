"""Pinned real projects, fetched from the package registries and unpacked once.

Benchmarks and the real-codebase tests run on the same pinned releases, so their numbers
can be compared between runs and machines. Only pip and npm registries are reachable here,
so projects come as PyPI source distributions or npm tarballs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

CORPUS_ENV = "CODESEARCH_CORPUS_DIR"
DEFAULT_DIR = Path(__file__).resolve().parent / ".corpus"


@dataclass(frozen=True)
class Project:
    name: str
    registry: str  # "pypi" | "npm"
    package: str
    version: str
    source_dir: str = ""  # the folder inside the archive that holds the code ("" = all)


PROJECTS: dict[str, Project] = {
    # PyPI projects come as wheels: the same source files, and no build step to run.
    "requests": Project("requests", "pypi", "requests", "2.32.3", "requests"),
    "rich": Project("rich", "pypi", "rich", "13.9.4", "rich"),
    "flask": Project("flask", "pypi", "flask", "3.0.3", "flask"),
    "click": Project("click", "pypi", "click", "8.1.7", "click"),
    "werkzeug": Project("werkzeug", "pypi", "werkzeug", "3.0.4", "werkzeug"),
    "pygments": Project("pygments", "pypi", "pygments", "2.18.0", "pygments"),
    "networkx": Project("networkx", "pypi", "networkx", "3.4.2", "networkx"),
    "django": Project("django", "pypi", "django", "5.1.3", "django"),
    "lodash": Project("lodash", "npm", "lodash", "4.17.21", ""),
    "express": Project("express", "npm", "express", "4.21.1", "lib"),
    "axios": Project("axios", "npm", "axios", "1.7.7", "lib"),
    # TypeScript sources with JSDoc (the package ships src/ next to its builds).
    "rxjs": Project("rxjs", "npm", "rxjs", "7.8.1", "src"),
}


def corpus_dir() -> Path:
    return Path(os.environ.get(CORPUS_ENV) or DEFAULT_DIR)


def _download(project: Project, into: Path) -> Path:
    if project.registry == "pypi":
        subprocess.run(
            [
                sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                "--only-binary", ":all:",
                f"{project.package}=={project.version}", "-d", str(into),
            ],
            check=True,
        )  # fmt: skip
    else:
        subprocess.run(
            ["npm", "pack", "--silent", f"{project.package}@{project.version}"],
            check=True,
            cwd=into,
            stdout=subprocess.DEVNULL,
        )
    archives = [p for p in into.iterdir() if p.is_file()]
    if len(archives) != 1:
        raise RuntimeError(f"expected one archive for {project.name}, found {archives}")
    return archives[0]


def _unpack(archive: Path, into: Path) -> Path:
    if archive.suffix in (".zip", ".whl"):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(into)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(into, filter="data")
    if archive.suffix == ".whl":
        return into
    tops = [p for p in into.iterdir() if p.is_dir()]
    return tops[0] if len(tops) == 1 else into


def fetch(name: str) -> Path:
    """The unpacked source folder of a pinned project (downloaded on first use)."""
    project = PROJECTS[name]
    target = corpus_dir() / f"{project.name}-{project.version}"
    done = target / ".complete"
    if not done.exists():
        corpus_dir().mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=corpus_dir()) as tmp:
            work = Path(tmp)
            (work / "dl").mkdir()
            archive = _download(project, work / "dl")
            (work / "src").mkdir()
            top = _unpack(archive, work / "src")
            if target.exists():
                shutil.rmtree(target)
            shutil.move(str(top), str(target))
        done.write_text(f"{project.registry}:{project.package}=={project.version}\n")
    return target / project.source_dir if project.source_dir else target
