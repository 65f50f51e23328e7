"""The loader reads only what a ruleset names under its own folder, and only regular files,
under bounds; whatever it is given, the answer is a ruleset or a located RulesetError."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from riskrules import RulesetError, load_ruleset
from riskrules.ruleset._conditions import MAX_NAME_LENGTH
from riskrules.ruleset._loader import MAX_SOURCE_NAME

MINIMAL = "ruleset: demo\nversion: '1'\ntitle: Demo\n"
PART = "inputs:\n  x: {type: integer, min: 0, max: 10}\n"
SECRET = "password: hunter2-do-not-show\n"


def _layout(tmp_path: Path) -> Path:
    """``outer/secret.yaml``, ``outer/shared/part.yaml`` and the folder ``outer/rules``."""
    outer = tmp_path / "outer"
    (outer / "rules").mkdir(parents=True)
    (outer / "shared").mkdir()
    (outer / "secret.yaml").write_text(SECRET, "utf-8")
    (outer / "shared" / "part.yaml").write_text(PART, "utf-8")
    return outer


def _load_error(source: str | Path, **kwargs: object) -> RulesetError:
    with pytest.raises(RulesetError) as caught:
        load_ruleset(source, **kwargs)  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize("name", ["../secret.yaml", "../shared/part.yaml", "ABSOLUTE"])
def test_an_include_outside_the_ruleset_folder_is_a_located_error(
    tmp_path: Path, name: str
) -> None:
    outer = _layout(tmp_path)
    if name == "ABSOLUTE":
        name = str(outer / "secret.yaml")
    top = outer / "rules" / "top.yaml"
    top.write_text(MINIMAL + f"include: [{name!r}]\n", "utf-8")
    error = _load_error(top)
    assert error.message.startswith(f"cannot include {name!r}: ")
    assert "outside the ruleset's folder" in error.message
    assert "include_roots" in error.message
    assert (error.line, error.column, error.path) == (4, 11, "include[0]")
    assert "hunter2" not in str(error)


def test_a_symbolic_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outer = _layout(tmp_path)
    (outer / "rules" / "link.yaml").symlink_to(outer / "secret.yaml")
    top = outer / "rules" / "top.yaml"
    top.write_text(MINIMAL + "include: [link.yaml]\n", "utf-8")
    error = _load_error(top)
    assert "outside the ruleset's folder" in error.message
    assert "hunter2" not in str(error)


def test_include_roots_allow_another_folder(tmp_path: Path) -> None:
    outer = _layout(tmp_path)
    top = outer / "rules" / "top.yaml"
    top.write_text(MINIMAL + "include: [../shared/part.yaml]\n", "utf-8")
    ruleset = load_ruleset(top, include_roots=[outer / "shared"])
    assert list(ruleset.inputs) == ["x"]
    # the extra root allows that folder only, not its parent
    top.write_text(MINIMAL + "include: [../secret.yaml]\n", "utf-8")
    assert "outside" in _load_error(top, include_roots=[outer / "shared"]).message


def test_includes_inside_the_folder_still_load(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "part.yaml").write_text(PART, "utf-8")
    (tmp_path / "top.yaml").write_text(MINIMAL + "include: [sub/part.yaml]\n", "utf-8")
    assert list(load_ruleset(tmp_path / "top.yaml").inputs) == ["x"]


def test_an_included_file_that_is_not_a_ruleset_is_not_quoted(tmp_path: Path) -> None:
    (tmp_path / "notes.yaml").write_text("hunter2-do-not-show\n", "utf-8")
    (tmp_path / "top.yaml").write_text(MINIMAL + "include: [notes.yaml]\n", "utf-8")
    error = _load_error(tmp_path / "top.yaml")
    assert "hunter2" not in str(error)
    assert error.message == "a ruleset file must be a mapping of sections, not a single value"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("as_include", [False, True])
def test_a_fifo_is_refused_without_hanging(tmp_path: Path, as_include: bool) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    top = tmp_path / "top.yaml"
    top.write_text(MINIMAL + "include: [pipe.yaml]\n", "utf-8")
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            load_ruleset(top if as_include else fifo)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():  # unblock the reader so that the thread ends, then fail
        with open(fifo, "wb"):
            pass
        pytest.fail("loading a FIFO blocked")
    assert len(outcome) == 1
    assert isinstance(outcome[0], RulesetError)
    assert "not a regular file" in outcome[0].message


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_is_refused(tmp_path: Path) -> None:
    error = _load_error(Path("/dev/zero"))
    assert error.message.startswith("not a regular file")
    top = tmp_path / "top.yaml"
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    top.write_text(MINIMAL + "include: [zero.yaml]\n", "utf-8")
    error = _load_error(top, include_roots=["/dev"])
    assert "not a regular file" in error.message
    assert (error.line, error.path) == (4, "include[0]")


@pytest.mark.parametrize("text", ["a" * 100_000, "a/" * 50_000, "x" * (MAX_SOURCE_NAME + 1)])
def test_a_long_string_that_is_neither_yaml_nor_a_path_is_a_ruleset_error(text: str) -> None:
    error = _load_error(text)
    assert "too long to be a file name" in error.message
    assert error.file == "<string>"


def test_a_long_name_that_names_nothing_is_a_ruleset_error() -> None:
    """Under the cap, the operating system's own limit gives a RulesetError too."""
    error = _load_error("x" * 300)
    assert isinstance(error, RulesetError)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (f"ruleset: r{'x' * MAX_NAME_LENGTH}\nversion: '1'\ntitle: T\n", "ruleset"),
        (MINIMAL + f"inputs:\n  a.{'b' * MAX_NAME_LENGTH}: {{type: boolean}}\n", "inputs"),
    ],
)
def test_names_over_the_length_limit_are_ruleset_errors(text: str, path: str) -> None:
    error = _load_error(text)
    assert f"longer than the {MAX_NAME_LENGTH} characters" in error.message
    assert error.path is not None
    assert error.path.startswith(path)


def test_a_name_at_the_length_limit_loads() -> None:
    name = "r" + "x" * (MAX_NAME_LENGTH - 1)
    assert load_ruleset(f"ruleset: {name}\nversion: '1'\ntitle: T\n").ruleset == name


@pytest.mark.parametrize("name", ["notes.txt", "passwd", "sub/.env"])
def test_an_include_names_a_yaml_file(tmp_path: Path, name: str) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / name).write_text("token: hunter2-do-not-show\n", "utf-8")
    top = tmp_path / "top.yaml"
    top.write_text(MINIMAL + f"include: [{name!r}]\n", "utf-8")
    error = _load_error(top)
    assert "an include names a .yaml or .yml file" in error.message
    assert error.path == "include[0]"
    assert "hunter2" not in str(error)
