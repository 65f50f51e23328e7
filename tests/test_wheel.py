"""The wheel ships the built-in rulesets, the schemas and py.typed, and loads them when installed.

The wheel is built from this tree, installed without dependencies into a fresh virtual
environment, and that environment borrows the current one's dependencies through a ``.pth``
file (no downloads). A subprocess there must load ``"default"`` from the installed package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from riskrules import load_ruleset
from riskrules.ruleset._loader import ruleset_json_schema

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys
import riskrules
from importlib import resources
from riskrules.ruleset._loader import source_files
ruleset = riskrules.load_ruleset("default")
data = resources.files("riskrules").joinpath("data")
schema = data.joinpath("schemas", "ruleset.schema.json").read_text("utf-8")
json.dump(
    {
        "package": riskrules.__file__,
        "files": list(source_files(ruleset)),
        "fingerprint": ruleset.fingerprint,
        "schema": schema,
    },
    sys.stdout,
)
"""


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", out, ROOT, cwd=out)
    (built,) = out.glob("riskrules-*.whl")
    return built


def test_the_wheel_contains_the_data_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    rulesets = sorted(p.name for p in (ROOT / "rulesets").glob("*.yaml"))
    assert "default.yaml" in rulesets
    for name in rulesets:
        assert f"riskrules/data/rulesets/{name}" in names
    assert "riskrules/data/schemas/ruleset.schema.json" in names
    assert "riskrules/data/schemas/fhir-mapping.schema.json" in names
    assert "riskrules/py.typed" in names
    assert "riskrules/ruleset/_loader.py" in names
    assert "riskrules/data/fhir_mappings/audit_c.json" in names
    assert "riskrules/data/fhir_mappings/audit_c_loinc.json" in names
    assert "riskrules/data/fhir_mappings/cssrs_screener_loinc.json" in names
    assert "riskrules/data/graph_viewer.html" in names
    assert "_riskrules_pytestplugin.py" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "riskrules = riskrules.cli:main" in text
    assert "riskrules = _riskrules_pytestplugin" in text


def test_the_installed_wheel_loads_the_built_in_default(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
        "--no-index", wheel, cwd=tmp_path,
    )  # fmt: skip
    purelib = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
        ).strip()
    )
    # Dependencies come from the current environment; the installed riskrules comes first.
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "zz_test_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    report = json.loads(_run(python, "-c", PROBE, cwd=tmp_path, env=env))

    assert Path(report["package"]).is_relative_to(purelib)
    assert report["files"], "no source files recorded"
    for name in report["files"]:
        assert Path(name).is_relative_to(purelib / "riskrules" / "data" / "rulesets"), name
    assert report["fingerprint"] == load_ruleset("default").fingerprint
    assert report["schema"] == ruleset_json_schema()

    script = venv / "bin" / "riskrules"
    assert _run(script, "schema", "ruleset", cwd=tmp_path, env=env) == ruleset_json_schema()
