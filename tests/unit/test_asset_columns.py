"""docs/assets.md lists every column of every asset kind as the importer reads them."""

from __future__ import annotations

from pathlib import Path

from layers.assets.kinds import KINDS, columns_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "assets.md"


def test_the_columns_documented_are_the_columns_read() -> None:
    text = DOC.read_text(encoding="utf-8")
    for kind in KINDS.values():
        assert columns_table(kind) in text, f"docs/assets.md is out of date for {kind.name}"


def test_chinese_labels_and_synonyms_are_read_and_every_problem_is_named() -> None:
    cover = KINDS["manhole_cover"]
    checked, found = cover.problems({"material": "铸铁", "shape": "圆形", "anti_fall_net": "是"})
    assert checked is None
    said = dict(found)
    assert "material" not in said and "shape" not in said  # read as cast_iron and round
    assert {"size_mm", "load_class", "setting", "owner", "maintainer"} <= set(said)
    assert cover.field_of("尺寸") == cover.field_of("尺寸（mm）") == "size_mm"
    assert cover.read({"anti_fall_net": "有", "status": "缺失"}) == {
        "anti_fall_net": True,
        "status": "missing",
    }
