"""Loading rulesets: every kind of source, includes, YAML 1.2 scalars, source locations, dumping."""

from __future__ import annotations

import gc
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from riskrules import Ruleset, RulesetError, dump_ruleset, load_ruleset
from riskrules.ruleset import _loader as loader
from riskrules.ruleset import _safeyaml as safeyaml
from riskrules.ruleset._loader import SourceLocation, source_files, source_location

DATA = Path(__file__).parents[1] / "data"
CASELOAD = DATA / "caseload.yaml"
MANIFEST = DATA / "manifest"
HEADER = "# yaml-language-server: $schema=../schemas/ruleset.schema.json\n"
MINIMAL = "ruleset: demo\nversion: '1'\ntitle: Demo\n"


def _scalar(text: str) -> Any:
    node = safeyaml.parse(f"v: {text}\n", file="<test>")
    assert node is not None
    return safeyaml.to_data(node)["v"]


# --------------------------------------------------------------------------- sources


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


# --------------------------------------------------------------------------- built-ins


@pytest.fixture
def builtins_from_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "_builtin_root", lambda: MANIFEST)


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
    monkeypatch.setattr(loader, "_builtin_root", lambda: tmp_path)
    with pytest.raises(RulesetError) as caught:
        load_ruleset("default")
    assert caught.value.message == (
        "cannot include '../outside.yaml': '../outside.yaml' points outside the built-in rulesets"
    )
    assert (caught.value.file, caught.value.path) == ("default.yaml", "include[0]")


def test_the_built_in_directory_is_found() -> None:
    root = loader._builtin_root()
    assert root is not None
    assert root.is_dir()


def test_a_name_that_is_not_built_in_may_still_be_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(CASELOAD, tmp_path / "myrules")
    monkeypatch.chdir(tmp_path)
    assert load_ruleset("myrules").ruleset == "caseload"


# --------------------------------------------------------------------------- scalars


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("True", True),
        ("FALSE", False),
        ("yes", "yes"),
        ("No", "No"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("12", 12),
        ("-7", -7),
        ("+5", 5),
        ("017", 17),
        ("0x1F", "0x1F"),
        ("0o17", "0o17"),
        ("1_000", "1_000"),
        ("12:30", "12:30"),
        ("1.5", 1.5),
        ("-2e3", -2000.0),
        (".5", 0.5),
        ("1e-07", 1e-07),
        ("1.0e+16", 1e16),
        ("5.", 5.0),
        (".inf", math.inf),
        ("-.Inf", -math.inf),
        ("2024-01-01", "2024-01-01"),
        ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
        ("null", None),
        ("~", None),
        ("", None),
        ("'true'", "true"),
        ('"12"', "12"),
        ("!!str 12", "12"),
        ("!!float 3", 3.0),
        ("! 12", "12"),
        ("<<", "<<"),
        ("=", "="),
    ],
)
def test_plain_scalars_follow_the_yaml_12_core_schema(text: str, value: Any) -> None:
    got = _scalar(text)
    assert got == value
    assert type(got) is type(value)


def test_nan_is_read_so_that_the_model_can_reject_it() -> None:
    assert math.isnan(_scalar(".nan"))
    assert math.isnan(_scalar(".NaN"))


def test_dates_stay_text_in_a_ruleset() -> None:
    ruleset = load_ruleset("ruleset: demo\nversion: 2024-01-01\ntitle: Demo\n")
    assert ruleset.version == "2024-01-01"


def test_duplicate_keys_are_found_at_any_depth() -> None:
    text = MINIMAL + "hazards:\n  h:\n    title: H\n    bands: {low: 0, low: 1}\n"
    with pytest.raises(RulesetError) as caught:
        load_ruleset(text)
    err = caught.value
    assert (err.message, err.line, err.column, err.path) == (
        "duplicate key 'low' (first defined at line 7)",
        7,
        21,
        "hazards.h.bands",
    )


def test_keys_that_are_not_identifiers_are_quoted_in_paths() -> None:
    text = MINIMAL + "inputs:\n  clinician.active_clients: {type: integer, min: x}\n"
    with pytest.raises(RulesetError) as caught:
        load_ruleset(text)
    assert caught.value.path == "inputs['clinician.active_clients'].min"
    assert caught.value.message == "expected a number, got 'x'"


# --------------------------------------------------------------------------- caps


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


# --------------------------------------------------------------------------- source map


def test_source_location_maps_merged_locations_to_files() -> None:
    ruleset = load_ruleset(MANIFEST)
    where = source_location(ruleset, ("rules", 1, "when", "condition:field", "eq"))
    assert where == SourceLocation(str(MANIFEST / "crisis.yaml"), 10, 40, "rules[0].when.eq")
    assert source_location(ruleset, ("protocols", "crisis_intervention", "urgency")) == (
        SourceLocation(
            str(MANIFEST / "shared.yaml"), 4, 62, "protocols.crisis_intervention.urgency"
        )
    )
    assert source_location(ruleset, ("title",)) == SourceLocation(
        str(MANIFEST / "default.yaml"), 5, 8, "title"
    )


def test_source_location_falls_back_to_the_nearest_written_part() -> None:
    ruleset = load_ruleset(CASELOAD)
    # rules[2] does not write a salience: the rule's own place is given.
    assert source_location(ruleset, ("rules", 2, "salience")) == SourceLocation(
        str(CASELOAD), 37, 5, "rules[2]"
    )


def test_source_location_is_none_for_rulesets_not_loaded_from_yaml() -> None:
    ruleset = Ruleset(ruleset="demo", version="1", title="Demo")
    assert source_location(ruleset, ("title",)) is None
    assert source_files(ruleset) == ()


def test_source_maps_are_released_with_their_ruleset() -> None:
    ruleset = load_ruleset(CASELOAD)
    key = id(ruleset)
    assert key in loader._SOURCE_MAPS
    del ruleset
    gc.collect()
    assert key not in loader._SOURCE_MAPS


# --------------------------------------------------------------------------- dumping


def test_dump_starts_with_the_schema_comment() -> None:
    ruleset = load_ruleset(CASELOAD)
    text = dump_ruleset(ruleset)
    assert text.startswith("# yaml-language-server: $schema=../schemas/ruleset.schema.json\n")
    other = dump_ruleset(ruleset, schema="https://example.org/ruleset.schema.json")
    assert other.splitlines()[0].endswith("$schema=https://example.org/ruleset.schema.json")


def test_dump_round_trips_the_fixture() -> None:
    ruleset = load_ruleset(CASELOAD)
    again = load_ruleset(dump_ruleset(ruleset))
    assert again == ruleset
    assert again.fingerprint == ruleset.fingerprint
    assert dump_ruleset(again) == dump_ruleset(ruleset)


def test_dumped_text_quotes_what_yaml_11_readers_would_misread() -> None:
    text = MINIMAL.replace("title: Demo", "title: 'yes'") + (
        "description: '2024-01-01'\n"
        "references:\n"
        "  a: {citation: 'on', note: '0x1F', url: '1_000'}\n"
        "  b: {citation: '12:30', note: 'null', url: '1.0'}\n"
    )
    ruleset = load_ruleset(text)
    dumped = dump_ruleset(ruleset)
    assert load_ruleset(dumped) == ruleset
    as_yaml_11: dict[str, Any] = yaml.safe_load(dumped)
    assert as_yaml_11["title"] == "yes"
    assert as_yaml_11["description"] == "2024-01-01"
    assert as_yaml_11["references"]["a"] == {"citation": "on", "note": "0x1F", "url": "1_000"}
    assert as_yaml_11["references"]["b"] == {"citation": "12:30", "note": "null", "url": "1.0"}


# --------------------------------------------------------------------------- without LibYAML


def test_the_pure_python_parser_gives_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    text = CASELOAD.read_text(encoding="utf-8")
    with_libyaml = load_ruleset(text)
    where = source_location(with_libyaml, ("rules", 1, "when", "all", 1, "gte"))
    monkeypatch.setattr(yaml, "__with_libyaml__", False)
    without = load_ruleset(text)
    assert without == with_libyaml
    assert source_location(without, ("rules", 1, "when", "all", 1, "gte")) == where
    for bad, message in [
        ("title: a\x01b\n", "invalid YAML: special characters are not allowed"),
        ("a: &x [1, *x]\n", "recursive alias '*x' (it refers to itself)"),
        ("a: 1\na: 2\n", "duplicate key 'a' (first defined at line 1)"),
        ("a: [\n", "invalid YAML: "),
    ]:
        with pytest.raises(RulesetError) as caught:
            load_ruleset(bad)
        assert caught.value.message.startswith(message)
        assert caught.value.line is not None
