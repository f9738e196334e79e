"""The libdoc specs the wheel ships (setup.py's `portable_spec`): every supported Robot
Framework reads them (the nox sessions run this with 6.1.1 too), and they name no path of
the machine that built them."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pytest
from robot.libdocpkg import LibraryDocumentation

ROOT = Path(__file__).resolve().parent.parent
SETUP: dict[str, Any] = runpy.run_path(str(ROOT / "setup.py"), run_name="setup")
SPECS = ["ProcessRunLibrary", "Emulator"]


def shipped(name: str, folder: Path) -> Path:
    text = (ROOT / "docs" / f"{name}.json").read_text(encoding="utf-8")
    path = folder / f"{name}.libspec.json"
    path.write_text(SETUP["portable_spec"](text), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", SPECS)
def test_the_running_robot_framework_reads_the_shipped_spec(name: str, tmp_path: Path) -> None:
    committed = json.loads((ROOT / "docs" / f"{name}.json").read_text(encoding="utf-8"))
    doc = LibraryDocumentation(str(shipped(name, tmp_path)))
    assert [kw.name for kw in doc.keywords] == [kw["name"] for kw in committed["keywords"]]
    assert [str(a) for a in doc.keywords[-1].args] == [
        a["repr"] for a in committed["keywords"][-1]["args"]
    ]


@pytest.mark.parametrize("name", SPECS)
def test_the_shipped_spec_names_sources_inside_the_package(name: str, tmp_path: Path) -> None:
    spec = json.loads(shipped(name, tmp_path).read_text(encoding="utf-8"))
    items = [spec, *spec["inits"], *spec["keywords"]]
    sources = {item["source"] for item in items}
    assert all(s.startswith("ProcessRunLibrary/") and s.endswith(".py") for s in sources), sources
    assert spec["source"] == f"ProcessRunLibrary/{'library' if name == SPECS[0] else name}.py"


def test_a_source_outside_a_package_folder_keeps_only_its_name() -> None:
    assert SETUP["relative_source"]("/build/x/src/ProcessRunLibrary/keywords/a.py") == (
        "ProcessRunLibrary/keywords/a.py"
    )
    assert SETUP["relative_source"]("/elsewhere/lib.py") == "lib.py"
