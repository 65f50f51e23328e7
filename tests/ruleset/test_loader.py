"""Loading rulesets: every kind of source, includes, directories, built-ins and the size caps."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from riskrules import RulesetError, load_ruleset
from riskrules.ruleset import _loader as loader
from riskrules.ruleset import _sources as sources
from riskrules.ruleset._locations import SourceLocation, source_files, source_location

DATA = Path(__file__).parents[1] / "data"
CASELOAD = DATA / "caseload.yaml"
MANIFEST = DATA / "manifest"
HEADER = "# yaml-language-server: $schema=../schemas/ruleset.schema.json\n"
MINIMAL = "ruleset: demo\nversion: '1'\ntitle: Demo\n"


def test_a_file_by_str_and_by_path_gives_the_same_ruleset() -> None:
    by_path = load_ruleset(CASELOAD)
    by_str = load_ruleset(str(CASELOAD))
    assert by_path == by_str
    assert by_path.fingerprint == by_str.fingerprint
    assert [rule.id for rule in by_path.rules] == [
        "caseload.over_capacity",
        "caseload.burnout_high",
        "caseload.strained_setting",
    ]


def test_a_ruleset_is_returned_as_is() -> None:
    ruleset = load_ruleset(CASELOAD)
    assert load_ruleset(ruleset) is ruleset


def test_yaml_text_is_recognised() -> None:
    text = CASELOAD.read_text(encoding="utf-8")
    assert load_ruleset(text) == load_ruleset(CASELOAD)
    one_line = load_ruleset("{ruleset: demo, version: '1', title: Demo}")
    assert one_line.ruleset == "demo"


def test_a_single_line_mapping_is_yaml_not_a_path() -> None:
    with pytest.raises(RulesetError) as caught:
        load_ruleset("ruleset: demo")
    assert caught.value.file == "<string>"
    assert caught.value.message.startswith("missing required key 'version'")


def test_other_types_are_a_type_error() -> None:
    with pytest.raises(TypeError, match="not int"):
        load_ruleset(42)  # type: ignore[arg-type]


def test_a_missing_file_is_a_ruleset_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(RulesetError) as caught:
        load_ruleset(missing)
    assert caught.value.file == str(missing)
    assert caught.value.message == "file not found"


def test_an_include_must_name_a_file(tmp_path: Path) -> None:
    (tmp_path / "sub.yaml").mkdir()
    (tmp_path / "top.yaml").write_text(MINIMAL + "include: [sub.yaml]\n", "utf-8")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(tmp_path / "top.yaml")
    assert caught.value.message == "cannot include 'sub.yaml': is a directory, not a file"
    assert (caught.value.line, caught.value.column) == (4, 11)


def test_manifest_with_a_diamond_merges_the_shared_file_once() -> None:
    ruleset = load_ruleset(MANIFEST / "default.yaml")
    assert (ruleset.ruleset, ruleset.version, ruleset.title) == ("demo", "2.0.0", "Demo manifest")
    # Included files first, in the order listed, then the manifest's own rules.
    assert [rule.id for rule in ruleset.rules] == [
        "caseload.over_capacity",
        "crisis.positive",
        "demo.compound",
    ]
    assert set(ruleset.protocols) == {"peer_consultation", "crisis_intervention"}
    assert [Path(f).name for f in source_files(ruleset)] == [
        "shared.yaml",
        "caseload.yaml",
        "crisis.yaml",
        "default.yaml",
    ]


def test_a_directory_loads_its_top_file() -> None:
    assert load_ruleset(MANIFEST) == load_ruleset(MANIFEST / "default.yaml")


def test_a_directory_with_two_top_files_is_an_error(tmp_path: Path) -> None:
    shutil.copy(CASELOAD, tmp_path / "a.yaml")
    shutil.copy(CASELOAD, tmp_path / "b.yaml")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(tmp_path)
    assert caught.value.message.startswith(
        "the directory has several top files that no other file includes (a.yaml, b.yaml)"
    )


def test_a_directory_whose_files_all_include_each_other_reports_the_cycle(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.yaml").write_text(HEADER + MINIMAL + "include: [b.yaml]\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text(HEADER + "include: [a.yaml]\n", encoding="utf-8")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(tmp_path)
    assert caught.value.message == f"include cycle: {tmp_path}/a.yaml -> {tmp_path}/b.yaml -> " + (
        f"{tmp_path}/a.yaml"
    )


def test_an_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RulesetError, match=r"no \.yaml files"):
        load_ruleset(tmp_path)


def test_includes_in_yaml_text_are_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(MANIFEST, tmp_path / "m")
    monkeypatch.chdir(tmp_path)
    text = MINIMAL + "include: [m/caseload.yaml]\n"
    ruleset = load_ruleset(text)
    assert [rule.id for rule in ruleset.rules] == ["caseload.over_capacity"]
    where = source_location(ruleset, ("rules", 0, "id"))
    assert where == SourceLocation("m/caseload.yaml", 8, 9, "rules[0].id")


def test_included_files_may_repeat_the_levels_of_the_top_file(tmp_path: Path) -> None:
    levels = "levels: [none, some, much]\n"
    (tmp_path / "top.yaml").write_text(MINIMAL + levels + "include: [a.yaml]\n", "utf-8")
    (tmp_path / "a.yaml").write_text(levels, "utf-8")
    assert load_ruleset(tmp_path / "top.yaml").scale == ("none", "some", "much")
    (tmp_path / "a.yaml").write_text("levels: [none, much]\n", "utf-8")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(tmp_path / "top.yaml")
    assert caught.value.message == (
        f"levels differ from those declared at {tmp_path}/top.yaml:4:9; a ruleset has one scale"
    )
    assert (caught.value.line, caught.value.column, caught.value.path) == (1, 9, "levels")


def test_the_top_file_supplies_id_version_and_title(tmp_path: Path) -> None:
    (tmp_path / "top.yaml").write_text(MINIMAL + "include: [part.yaml]\n", "utf-8")
    part = "ruleset: part\nversion: '9'\ntitle: Part\ndescription: only a part\n"
    (tmp_path / "part.yaml").write_text(part, "utf-8")
    ruleset = load_ruleset(tmp_path / "top.yaml")
    assert (ruleset.ruleset, ruleset.version, ruleset.title) == ("demo", "1", "Demo")
    assert ruleset.description is None


@pytest.fixture
def builtins_from_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "builtin_root", lambda: MANIFEST)


@pytest.mark.usefixtures("builtins_from_manifest")
def test_a_built_in_name_is_found_in_the_built_in_directory() -> None:
    ruleset = load_ruleset("default")
    assert ruleset == load_ruleset(MANIFEST)
    # Built-in files are named as they are in the package, without a directory.
    assert source_location(ruleset, ("rules", 0)) == SourceLocation(
        "caseload.yaml", 8, 5, "rules[0]"
    )
    assert source_location(ruleset, ("rules", 2, "then")) == SourceLocation(
        "default.yaml", 13, 11, "rules[0].then"
    )


@pytest.mark.usefixtures("builtins_from_manifest")
def test_an_unknown_built_in_name_lists_the_known_ones() -> None:
    with pytest.raises(RulesetError) as caught:
        load_ruleset("defualt")
    assert caught.value.message == (
        "unknown built-in ruleset 'defualt' (did you mean 'default'?) "
        "(built-in: caseload, crisis, default, shared); "
        "a path to a file or directory is also accepted"
    )


def test_a_built_in_include_cannot_leave_the_built_in_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "default.yaml").write_text(MINIMAL + "include: [../outside.yaml]\n", "utf-8")
    monkeypatch.setattr(loader, "builtin_root", lambda: tmp_path)
    with pytest.raises(RulesetError) as caught:
        load_ruleset("default")
    assert caught.value.message == (
        "cannot include '../outside.yaml': '../outside.yaml' points outside the built-in rulesets"
    )
    assert (caught.value.file, caught.value.path) == ("default.yaml", "include[0]")


def test_the_built_in_directory_is_found() -> None:
    root = sources.builtin_root()
    assert root is not None
    assert root.is_dir()


def test_a_name_that_is_not_built_in_may_still_be_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(CASELOAD, tmp_path / "myrules")
    monkeypatch.chdir(tmp_path)
    assert load_ruleset("myrules").ruleset == "caseload"


def test_the_caps_can_be_set_per_call() -> None:
    text = CASELOAD.read_text(encoding="utf-8")
    with pytest.raises(RulesetError, match="larger than the 1000 bytes limit"):
        load_ruleset(text, max_bytes=1000)
    with pytest.raises(RulesetError, match="expands to more than 50 nodes"):
        load_ruleset(text, max_nodes=50)
    with pytest.raises(RulesetError, match="nesting deeper than 4 levels"):
        load_ruleset(text, max_depth=4)
    assert load_ruleset(text, max_depth=12).ruleset == "caseload"


def test_a_file_at_the_size_cap_is_read(tmp_path: Path) -> None:
    text = MINIMAL + "description: x\n"
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    size = len(text.encode())
    assert load_ruleset(path, max_bytes=size).description == "x"
    with pytest.raises(RulesetError, match="larger than"):
        load_ruleset(path, max_bytes=size - 1)
