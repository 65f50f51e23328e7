"""Messy and hostile cohort files: nothing silently wrong, nothing lost.

Each test reproduces one way a real research file went wrong: duplicated columns, byte order
marks, blank lines, loosely written integers, oversized cells and lines, keys given twice.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskrules import RiskRulesError, Scorer, load_ruleset
from riskrules.cli import main
from riskrules.research import UnreadableRecord, iter_records
from riskrules.research._cohort import loads_line, strict_json_loads
from riskrules.scoring._validation import MAX_BYTES

RULESET = load_ruleset("default")
DUPLICATE = r"'clinician\.active_clients' appears more than once"


def records(path: Path) -> list[Any]:
    return list(iter_records(path, ruleset=RULESET))


def test_csv_duplicate_column_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text(
        "id,clinician.active_clients,clinician.active_clients\na,10,50\n", encoding="utf-8"
    )
    with pytest.raises(RiskRulesError, match=DUPLICATE):
        records(path)


def test_parquet_duplicate_column_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "dup.parquet"
    table = pa.Table.from_arrays(
        [pa.array(["a"]), pa.array([10]), pa.array([50])],
        names=["id", "clinician.active_clients", "clinician.active_clients"],
    )
    pq.write_table(table, path)
    with pytest.raises(RiskRulesError, match=DUPLICATE):
        records(path)


def test_parquet_duplicate_struct_field_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "dup_struct.parquet"
    struct = pa.StructArray.from_arrays(
        [pa.array([10]), pa.array([50])], names=["active_clients", "active_clients"]
    )
    pq.write_table(pa.Table.from_arrays([struct], names=["clinician"]), path)
    with pytest.raises(RiskRulesError, match=DUPLICATE):
        records(path)


def test_batch_with_duplicate_columns_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("id,clinician.active_clients,clinician.active_clients\na,10,50\n")
    out = tmp_path / "out.jsonl"
    status = main(["batch", str(path), "--out", str(out), "--engine", "native"])
    assert status == 2
    assert "appears more than once" in capsys.readouterr().err
    assert not out.exists()


def test_jsonl_byte_order_mark_on_the_first_line_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": "a", "clinician": {"active_clients": 40}}\n')
    [record] = records(path)
    assert not isinstance(record.assessment, UnreadableRecord)
    assert record.id == "a"
    assert record.assessment == {"clinician": {"active_clients": 40}}


def test_blank_csv_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("id,clinician.active_clients\na,10\n\nb,20\n\n", encoding="utf-8")
    got = records(path)
    assert [(r.index, r.id, r.assessment) for r in got] == [
        (0, "a", {"clinician.active_clients": 10}),
        (1, "b", {"clinician.active_clients": 20}),
    ]


@pytest.mark.parametrize("cell", ["4_0", " 40", "40 ", "\u0664\u0660", "+40", "040", "4e1"])
def test_csv_integers_are_read_as_strictly_as_json(tmp_path: Path, cell: str) -> None:
    path = tmp_path / "ints.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows([["id", "clinician.active_clients"], ["a", cell]])
    [record] = records(path)
    assert record.assessment == {"clinician.active_clients": cell}  # left for validation
    with Scorer(RULESET, engine="native") as scorer, pytest.raises(RiskRulesError):
        scorer.score(record.assessment)


@pytest.mark.parametrize(("cell", "value"), [("40", 40), ("-3", -3), ("0", 0)])
def test_csv_json_integers_still_convert(tmp_path: Path, cell: str, value: int) -> None:
    path = tmp_path / "ints.csv"
    path.write_text(f"id,clinician.active_clients\na,{cell}\n", encoding="utf-8")
    [record] = records(path)
    assert record.assessment == {"clinician.active_clients": value}


def test_oversized_csv_cell_is_a_record_error_and_a_skip_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "big.csv"
    huge = "x" * 200_000
    path.write_text(
        f"id,clinician.active_clients,client.sex\na,10,female\nb,11,{huge}\nc,12,male\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    status = main(
        ["batch", str(path), "--out", str(out), "--engine", "native", "--on-error", "skip"]
    )
    capsys.readouterr()
    assert status == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in rows] == ["a", "c"]
    errors = [json.loads(line) for line in Path(f"{out}.errors.jsonl").read_text().splitlines()]
    assert [e["index"] for e in errors] == [1]
    assert huge not in errors[0]["error"]


def test_oversized_jsonl_line_is_a_record_error(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("wb") as stream:
        stream.write(b'{"id": "a"}\n')
        stream.write(b'{"id": "b", "x": "' + b"y" * (MAX_BYTES + 10) + b'"}\n')
        stream.write(b'{"id": "c"}\n')
    got = records(path)
    assert [r.index for r in got] == [0, 1, 2]
    assert isinstance(got[1].assessment, UnreadableRecord)
    assert "longer than" in str(got[1].assessment.error)
    assert (got[0].id, got[2].id) == ("a", "c")


LINES = [
    b'{"a": 1, "b": {"c": [1, 2.5, "x"]}}',
    b'{"a": "\\":", "b": 1}',
    b'{"a" : 1 , "b" :{"c":null}}',
    b'{"big": 18446744073709551616}',
    b'{"big": -9223372036854775809, "f": 1e300}',
    b'{"s": "\\ud800"}',
    b'{"a": 1, "a": 2}',
    b'{"a": {"b": 1, "b": 2}}',
    b'{"a": NaN}',
    b'{"a": 1e400}',
    b"[1, 2]",
    b'{"a" :1,"a":2}',
    b'{"a":1,"a":"x\\u0022:"}',
    b'{"t": "12:30", "t": "13:30"}',
    b'{"x":[{"a":1},{"a":1,"a":2}]}',
    b'{"n": -9223372036854775808, "m": 18446744073709551615}',
    b'{"n": -9223372036854775809}',
    b'{"s": "1234567890123456789012345"}',
    b'{"x": "\\u003a", "b": 1, "b": 2}',
    b'{"x": {"y": "\\u003A"}, "z": [{"b": 1, "b": 2}]}',
    b'{"x": "\\u003a", "t": "12:30"}',
    b'{"a": {"b": "1:2", "c": [":"]}, "d": "::"}',
    b'{"a": {"b": "1:2"}, "a": {"b": "1:2"}}',
]


@pytest.mark.parametrize("line", LINES)
def test_fast_line_parser_agrees_with_the_strict_one(line: bytes) -> None:
    outcomes = []
    for parse in (lambda: strict_json_loads(line.decode("utf-8")), lambda: loads_line(line)):
        try:
            outcomes.append(("ok", parse()))
        except ValueError as exc:
            outcomes.append((type(exc).__name__, str(exc)))
    assert outcomes[0][0] == outcomes[1][0]
    if outcomes[0][0] != "ok":
        assert outcomes[0] == outcomes[1]
        return
    expected, got = outcomes[0][1], outcomes[1][1]
    assert got == expected or json.dumps(got) == json.dumps(expected)
    assert json.dumps(got) == json.dumps(expected)  # same types, e.g. big integers stay int


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=':"{}[] ab\\', max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet=':" ab', max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    obj=st.dictionaries(st.text(alphabet=':" ab', max_size=3), json_values, max_size=4),
    separators=st.sampled_from([(",", ":"), (", ", ": "), (" ,", " : ")]),
    repeat=st.booleans(),
)
def test_fast_parser_agrees_on_generated_lines(
    obj: dict[str, Any], separators: tuple[str, str], repeat: bool
) -> None:
    text = json.dumps(obj, separators=separators)
    if repeat and obj:
        key = json.dumps(next(iter(obj)))
        text = text[:-1] + f"{separators[0]}{key}{separators[1]}0}}"
    raw = text.encode("utf-8")
    try:
        expected: Any = strict_json_loads(text)
    except ValueError:
        assert repeat
        with pytest.raises(ValueError, match="duplicate key"):
            loads_line(raw)
        return
    assert json.dumps(loads_line(raw)) == json.dumps(expected)


def test_jsonl_duplicate_key_is_still_a_record_error(tmp_path: Path) -> None:
    path = tmp_path / "dup.jsonl"
    path.write_text('{"clinician": {"active_clients": 10, "active_clients": 50}}\n')
    [record] = records(path)
    assert isinstance(record.assessment, UnreadableRecord)
    assert "duplicate key 'active_clients'" in str(record.assessment.error)
