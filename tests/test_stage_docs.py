"""The README's table of stage keys is generated from the stage configs (`distillery stages
--markdown`), so it cannot drift: this test fails when a key, default or description changes
without the README. Regenerate with `PYTHONPATH=.:tests python tests/test_stage_docs.py`."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from conftest import run_cli
from curate import stages

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"(<!-- stage-keys:start -->\n)(.*?)(<!-- stage-keys:end -->)", re.S)


def readme_block() -> str:
    match = BLOCK.search(README.read_text(encoding="utf-8"))
    assert match, "README.md has no <!-- stage-keys:start --> … <!-- stage-keys:end --> block"
    return match.group(2)


def test_readme_lists_every_stage_key_as_the_configs_describe_them():
    generated = stages.markdown()
    assert readme_block() == generated, "README stage keys are stale: run PYTHONPATH=.:tests python tests/test_stage_docs.py"
    for name in stages.known():
        for key, *_ in stages.config_keys(name):
            assert f"| `{key}` |" in generated


def test_every_config_key_has_a_description():
    for name in [None, *stages.known()]:
        for key, _, _, description in stages.config_keys(name):
            assert description.strip(), f"stage {name}: key {key!r} has no Field description"


def test_cli_prints_the_keys(capsys):
    code, out, _ = run_cli(["stages", "difficulty"], capsys)
    assert code == 0 and "attempts_from" in out and "[str] | null" in out
    code, out, _ = run_cli(["stages", "--markdown"], capsys)
    assert code == 0 and out == stages.markdown()
    code, _, err = run_cli(["stages", "nope"], capsys)
    assert code == 2 and "unknown stage 'nope'" in err


if __name__ == "__main__":  # rewrite the README block from the configs
    text = README.read_text(encoding="utf-8")
    README.write_text(BLOCK.sub(lambda m: m.group(1) + stages.markdown() + m.group(3), text), encoding="utf-8")
    sys.exit(0)
