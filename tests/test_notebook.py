"""The exploration notebook runs top to bottom on a small run."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import build_run

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore_traces.ipynb"


def test_explore_traces_notebook_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient", reason="pip install nbclient ipykernel (the dev extra)")
    pytest.importorskip("ipykernel")
    run = build_run(tmp_path)
    # The notebook's parameter cell reads the run from the environment, which the kernel inherits.
    monkeypatch.setenv("DISTILLERY_RUN", str(run))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=60, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "03-filter" in text and "rows dropped" in text
    assert any("image/svg+xml" in o.get("data", {}) for o in outputs)
