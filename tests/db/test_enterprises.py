"""The enterprise register on the grid (issue 19) over real PostGIS and HTTP: the published
separation figures found by the query in the geocoded, located addresses; the combined search
and its exports; what the public and each role see; the daily push split by street and
department, never twice; the register import, all or nothing with every bad row named."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Connection, Engine, text

from geo.errors import InvalidInput
from layers.accounts import users
from layers.enterprises import digest, industries, queries, register_files
from layers.enterprises.credit_code import check_character
from layers.grid.index import AreaIndex
from layers.io.area_files import ImportProblems
from tests.conftest import PASSWORD

DAY = date(2026, 10, 30)  # a Friday of the session's register (as of 2026-11-01)
TODAY = date(2026, 11, 1)
KAIPING = "370203034"  # 开平路街道


@pytest.fixture(scope="module")
def people(engine: Engine, client: TestClient, accounts: dict[str, Any]) -> dict[str, dict[str, str]]:
    """A planner, a 开平路街道 office user and a 区商务局 user, signed in; and the session's."""
    made = {
        "ent_planner": ("planner", None),
        "ent_kaiping": ("viewer", KAIPING),
        "ent_ed03": ("viewer", "ED03"),
    }
    with engine.begin() as conn:
        for name, (role, unit) in made.items():
            if not conn.execute(text("SELECT 1 FROM users WHERE name = :n"), {"n": name}).first():
                users.add(conn, name, role, PASSWORD, unit)
    out = dict(accounts)
    for name in made:
        got = client.post("/api/token", data={"username": name, "password": PASSWORD})
        out[name] = {"Authorization": f"Bearer {got.json()['access_token']}"}
    return out


def _sheet_rows(content: bytes) -> int:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return int(sheet.max_row)


def test_the_published_separation_is_found_in_the_located_addresses(
    client: TestClient, people: dict[str, Any], conn: Connection
) -> None:
    got = client.get("/api/enterprises/separation", params={"by": "street"}, headers=people["ent_planner"])
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["separated"], body["kinds"]["operating_outside"], body["kinds"]["inside_elsewhere"]) == (
        8_576, 4_392, 4_184,
    )  # fmt: skip
    assert body["operating"] == 90_412 and sum(body["kinds"].values()) == body["operating"]
    assert body["kinds"]["unresolved"] > 0  # fuzzy addresses are counted apart, never guessed
    assert sum(g["separated"] for g in body["groups"]) == 8_576
    by_industry = client.get("/api/enterprises/separation?by=industry", headers=people["ent_planner"]).json()
    assert sum(g["separated"] for g in by_industry["groups"]) == 8_576
    # the kinds come from the addresses: move one firm's operating address and it is counted anew
    code = conn.execute(
        text("SELECT credit_code FROM enterprises WHERE separation = 'inside_elsewhere' ORDER BY 1 LIMIT 1")
    ).scalar_one()
    conn.execute(
        text(
            "UPDATE enterprises SET op_address_id = reg_address_id, op_micro_grid = reg_micro_grid "
            "WHERE credit_code = :c"
        ),
        {"c": code},
    )
    assert queries.separation(conn, "street")["kinds"]["inside_elsewhere"] == 4_183
    # and every firm of the check was placed by the geocoder, none by a guess
    untrusted = conn.execute(
        text(
            "SELECT count(*) FROM enterprises WHERE separation <> 'unresolved' AND "
            "(reg_match NOT IN ('exact', 'house_near', 'outside') "
            "OR op_match NOT IN ('exact', 'house_near', 'outside'))"
        )
    ).scalar_one()
    assert untrusted == 0


def test_the_check_lists_each_groups_firms_to_follow_up(client: TestClient, people: dict[str, Any]) -> None:
    h = people["ent_planner"]
    body = client.get("/api/enterprises/separation", params={"lists": "true"}, headers=h).json()
    listed: dict[str, int] = {}
    for g in body["groups"]:
        for firm in g["firms"]:
            listed[firm["separation"]] = listed.get(firm["separation"], 0) + 1
        assert len([f for f in g["firms"] if f["separation"] != "unresolved"]) == g["separated"]
    assert listed == {k: body["kinds"][k] for k in ("operating_outside", "inside_elsewhere", "unresolved")}
    kaiping = next(g for g in body["groups"] if g["code"] == KAIPING)
    behind = client.get(
        "/api/enterprises",
        params={"separation": "separated", "street": KAIPING, "status": "在营", "limit": 500},
        headers=h,
    ).json()
    assert behind["total"] == kaiping["separated"] <= 500  # the list is the search behind the figure
    assert {f["credit_code"] for f in kaiping["firms"] if f["separation"] != "unresolved"} == {
        f["credit_code"] for f in behind["items"]
    }
    plain = client.get("/api/enterprises/separation", headers=h).json()
    assert plain["groups"][0]["firms"] is None  # the counts alone unless asked
    xlsx = client.get("/api/enterprises/separation", params={"by": "industry", "f": "xlsx"}, headers=h)
    assert xlsx.status_code == 200 and "separation-by-industry" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("行业大类代码", "行业大类", "注册经营地关系")
    assert len(rows) - 1 == sum(listed.values())
    assert {r[2] for r in rows[1:]} == {"区内注册、区外经营", "区内注册、区内异址经营", "地址待核实"}


def test_the_register_has_the_published_size_and_valid_codes(conn: Connection) -> None:
    query = text("SELECT status, count(*) FROM enterprises GROUP BY 1")
    counts = {str(status): int(n) for status, n in conn.execute(query)}
    assert sum(counts.values()) == 160_000 and counts["在营"] == 90_412
    sample = conn.execute(
        text("SELECT credit_code, industry FROM enterprises ORDER BY random() LIMIT 500")
    ).all()
    for code, industry in sample:
        assert check_character(code[:17]) == code[17]
        assert industries.check_industry(industry) == industry
    weekly = conn.execute(
        text("SELECT count(*) / 156.0 FROM enterprise_events WHERE \"on\" >= DATE '2023-11-01'")
    ).scalar_one()
    assert 100 < weekly < 600  # a few hundred register changes a week


def test_firms_are_registered_with_the_city_or_the_district(
    conn: Connection, client: TestClient, people: dict[str, Any]
) -> None:
    query = text("SELECT registrar_level, count(*) FROM enterprises GROUP BY 1")
    levels = {str(k): int(n) for k, n in conn.execute(query)}
    assert sum(levels.values()) == 160_000
    assert 0.03 < levels["city"] / 160_000 < 0.15 and levels["district"] > 0.8 * 160_000
    # a code the city issued says so in characters 3–8; a firm that moved in keeps its own
    wrong = conn.execute(
        text("SELECT count(*) FROM enterprises WHERE (substr(credit_code, 3, 6) = '370200') "
             "<> (registrar = '370200' AND moved_in_on IS NULL)")
    ).scalar_one()  # fmt: skip
    assert wrong == 0
    headers = people["ent_planner"]
    city = client.get("/api/enterprises", params={"registrar": "city", "limit": 500}, headers=headers).json()
    assert city["total"] == levels["city"]
    assert {f["registrar_level"] for f in city["items"]} == {"city"}
    assert {f["registrar_name"] for f in city["items"]} == {"市级"}
    other = client.get("/api/enterprises", params={"registrar": "other", "limit": 5}, headers=headers).json()
    assert other["total"] == levels["other"] and other["items"][0]["registrar_name"].startswith("外区 ")
    bad = client.get("/api/enterprises", params={"registrar": "province"}, headers=headers)
    assert bad.status_code == 422 and "registrar" in bad.text


def test_search_combines_every_filter(client: TestClient, people: dict[str, Any]) -> None:
    h = people["ent_planner"]
    every = client.get("/api/enterprises", params={"limit": 1}, headers=h).json()
    assert every["total"] == 160_000
    params = {
        "industry": "65",
        "status": "在营",
        "label": "数字经济",
        "capital_min": 50,
        "founded_from": "2015-01-01",
    }
    got = client.get("/api/enterprises", params={**params, "limit": 500}, headers=h).json()
    assert 0 < got["total"] < every["total"]
    for f in got["items"]:
        assert f["industry"].startswith("65") and f["status"] == "在营" and f["label"] == "数字经济"
        assert f["capital"] >= 50 and f["founded"] >= "2015-01-01"
        assert "legal_rep" not in f and "phone" not in f  # a planner sees no people
    name = got["items"][0]["name"]
    short = name[2:4]  # a two-character trade name: the character-pair index
    found = client.get("/api/enterprises", params={"q": short, "limit": 500}, headers=h).json()
    assert found["items"] and all(short in f["name"] for f in found["items"])
    code = got["items"][0]["credit_code"]
    by_code = client.get("/api/enterprises", params={"q": code[:12]}, headers=h).json()
    assert any(f["credit_code"] == code for f in by_code["items"])
    outside = client.get(
        "/api/enterprises",
        params={"separation": "operating_outside", "street": KAIPING, "limit": 500},
        headers=h,
    ).json()
    assert outside["total"] > 0 and all(f["street"] == KAIPING for f in outside["items"])
    assert all(f["op_match"] == "outside" for f in outside["items"])
    for bad, field in ((("industry", "6598"),), "industry"), ((("label", "不存在"),), "label"):
        wrong = client.get("/api/enterprises", params=dict(bad), headers=h)
        assert wrong.status_code == 400 and wrong.json()["error"]["field"] == field
    assert client.get("/api/enterprises").status_code == 401


def test_headcounts_flag_firms_to_help_and_to_support(client: TestClient, people: dict[str, Any]) -> None:
    h = people["ent_planner"]

    def flagged(flag: str) -> tuple[int, list[list[int]]]:
        got = client.get("/api/enterprises", params={flag: "true", "status": "在营", "limit": 30}, headers=h)
        assert got.status_code == 200, got.text
        body = got.json()
        counts = [
            [
                m["headcount"]
                for m in client.get(f"/api/enterprises/{f['credit_code']}", headers=h).json()["headcounts"]
            ]
            for f in body["items"]
        ]
        return body["total"], counts

    falling, falls = flagged("abnormal")
    assert 100 < falling < 5_000
    for c in falls:  # last month fell by more than 30%, or to none
        assert c[-2] > 0 and (c[-1] == 0 or c[-1] < 0.7 * c[-2])
    growing, rises = flagged("growing")
    assert 20 < growing < 5_000
    for c in rises:  # up by more than 30% and five people on a year before, and not down last month
        assert len(c) >= 13 and c[-13] > 0 and c[-1] > 1.3 * c[-13] and c[-1] >= c[-13] + 5 and c[-1] >= c[-2]
    both = client.get("/api/enterprises", params={"abnormal": "true", "growing": "true"}, headers=h).json()
    assert both["total"] == 0  # a firm that fell last month is not one that keeps growing


def test_people_only_for_dispatchers_and_the_public_sees_doorplates_only(
    client: TestClient, people: dict[str, Any]
) -> None:
    one = client.get("/api/enterprises", params={"limit": 1}, headers=people["disp1"]).json()["items"][0]
    assert one["legal_rep"] and one["phone"]
    detail = client.get(f"/api/enterprises/{one['credit_code']}", headers=people["ent_planner"]).json()
    assert "phone" not in detail and "legal_rep" not in detail and detail["events"] is not None
    items = client.get("/collections/enterprises/items", params={"limit": 200}).json()["features"]
    assert items
    for f in items:
        assert set(f["properties"]) <= {
            "id", "name", "industry", "industry_name", "label", "status", "founded", "street", "street_name",
        }  # fmt: skip


def test_exports_carry_the_filtered_list(client: TestClient, people: dict[str, Any]) -> None:
    h = people["ent_planner"]
    params = {"separation": "registered_outside", "street": KAIPING}
    total = client.get("/api/enterprises", params=params, headers=h).json()["total"]
    got = client.get("/api/enterprises", params={**params, "f": "csv"}, headers=h)
    assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert len(rows) == total and rows[0]["注册经营地关系"] == "registered_outside"
    xlsx = client.get("/api/enterprises", params={**params, "f": "xlsx"}, headers=h)
    assert _sheet_rows(xlsx.content) == total + 1


def test_the_digest_of_a_day_goes_by_street_and_department_once(
    conn: Connection, client: TestClient, people: dict[str, Any]
) -> None:
    conn.execute(
        text("INSERT INTO webhooks (url, events, secret, created_by) VALUES ('https://example.org/h', "
             "ARRAY['enterprise.digest'], 's', 'test')")
    )  # fmt: skip
    changes = conn.execute(
        text('SELECT count(*) FROM enterprise_events WHERE "on" = :d'), {"d": DAY}
    ).scalar_one()
    made = digest.make(conn, DAY, TODAY)
    assert made.events == changes > 0 and made.records >= changes
    again = digest.make(conn, DAY, TODAY)
    assert again.records == 0  # made again: nothing pushed twice
    day = digest.of_day(conn, DAY, TODAY)
    streets = [d for d in day["digests"] if d["recipient_kind"] == "street"]
    departments = [d for d in day["digests"] if d["recipient_kind"] == "department"]
    assert (
        streets
        and departments
        and {d["recipient"] for d in departments} <= {d.code for d in industries.departments()}
    )
    for d in day["digests"]:
        codes = [i["credit_code"] + i["kind"] for i in d["items"]]
        assert len(codes) == len(set(codes)) == d["records"] == sum(d["levels"].values())
        named = {i["registrar_level"]: i["registrar_name"] for i in d["items"]}
        assert named.items() <= {"city": "市级", "district": "区级"}.items() | {("other", named.get("other"))}
        if d["recipient_kind"] == "street":
            assert {i["street"] for i in d["items"]} == {d["recipient"]}
    # every change went to its street (when it has one) and to at least one department
    placed = conn.execute(
        text('SELECT count(*) FROM enterprise_events e JOIN enterprises f USING (credit_code) '
             'WHERE e."on" = :d AND f.street IS NOT NULL'), {"d": DAY}
    ).scalar_one()  # fmt: skip
    assert sum(d["records"] for d in streets) == placed
    told = conn.execute(
        text("SELECT count(*) FROM outbox WHERE kind = 'enterprise.digest' AND payload->>'day' = :d"),
        {"d": DAY.isoformat()},
    ).scalar_one()
    assert told == len(day["digests"])
    with pytest.raises(InvalidInput) as future:
        digest.make(conn, TODAY, TODAY)
    assert future.value.field == "date"


def test_a_street_reads_its_own_push_and_marks_visits(
    bound_client: TestClient, people: dict[str, Any]
) -> None:
    conn = bound_client.app.state.worker.db.connection  # type: ignore[attr-defined]
    digest.make(conn, DAY, TODAY)
    street = conn.execute(
        text("SELECT recipient FROM enterprise_digests WHERE day = :d AND recipient_kind = 'street' "
             "ORDER BY recipient LIMIT 1"), {"d": DAY}
    ).scalar_one()  # fmt: skip
    users.add(conn, "ent_street", "viewer", PASSWORD, street)
    token = bound_client.post("/api/token", data={"username": "ent_street", "password": PASSWORD}).json()
    office = {"Authorization": f"Bearer {token['access_token']}"}
    mine = bound_client.get("/api/enterprises/digest", params={"date": DAY.isoformat()}, headers=office)
    assert mine.status_code == 200, mine.text
    digests = mine.json()["digests"]
    assert [(d["recipient_kind"], d["recipient"]) for d in digests] == [("street", street)]
    firm = digests[0]["items"][0]["credit_code"]
    visit = bound_client.post(
        f"/api/enterprises/{firm}/visits", json={"note": "次日走访，企业已入驻"}, headers=office
    )
    assert visit.status_code == 201, visit.text
    other = people["field9"] if street != "370203005" else people["field1"]  # another street's staff
    assert (
        bound_client.post(f"/api/enterprises/{firm}/visits", json={"note": "x"}, headers=other).status_code
        == 403
    )
    seen = bound_client.get(f"/api/enterprises/{firm}", headers=office).json()
    assert [v["note"] for v in seen["visits"]] == ["次日走访，企业已入驻"]
    assert seen["visits"][0].get("actor") is None  # no staff names but for dispatchers and admins
    dept = bound_client.get(
        "/api/enterprises/digest", params={"date": DAY.isoformat()}, headers=people["ent_ed03"]
    )
    assert [d["recipient"] for d in dept.json()["digests"]] == ["ED03"]
    xlsx = bound_client.get(
        "/api/enterprises/digest",
        params={"date": DAY.isoformat(), "f": "xlsx"},
        headers=people["ent_planner"],
    )
    assert xlsx.status_code == 200 and _sheet_rows(xlsx.content) > 1
    future = bound_client.get(
        "/api/enterprises/digest", params={"date": "2099-01-01"}, headers=people["ent_planner"]
    )
    assert future.status_code == 400 and future.json()["error"]["field"] == "date"


HEADER = [
    "统一社会信用代码",
    "企业名称",
    "企业类型",
    "行业代码",
    "注册资本",
    "成立日期",
    "登记状态",
    "状态日期",
    "住所",
    "经营地址",
    "登记机关",
]


def _write(path: Path, rows: list[list[str]], encoding: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows([HEADER, *rows])
    return path


def _code(body: str) -> str:
    first17 = f"91370203{body}"
    return first17 + check_character(first17)


def test_an_extract_with_bad_rows_is_refused_whole(conn: Connection, tmp_path: Path, demo: int) -> None:
    good = [_code("MA0TEMP01"), "青岛导入样例科技有限公司", "有限责任公司", "6513", "100万元", "2026/10/20",
            "存续", "", "青岛市市北区辽宁路1号", "", ""]  # fmt: skip
    rows = [
        good,
        [good[0][:-1] + ("A" if good[0][-1] != "A" else "B"), *good[1:]],  # a wrong check character
        [_code("MA0TEMP02"), "行业不存在", "", "6598", "1", "2020-01-01", "存续", "", "辽宁路1号", "", ""],
        [_code("MA0TEMP03"), "无地址", "", "7212", "1", "2020-01-01", "存续", "", "???", "", ""],
        [good[0], *good[1:]],  # the same credit code twice
        [_code("MA0TEMP06"), "机关", "", "7212", "1", "2020-01-01", "存续", "", "辽宁路1号", "", "37020"],
    ]
    path = _write(tmp_path / "bad.csv", rows, "utf-8")
    index = AreaIndex(conn, demo)
    before = conn.execute(text("SELECT count(*) FROM enterprises")).scalar_one()
    with pytest.raises(ImportProblems) as refused:
        register_files.import_register(conn, index, path, {}, "370203", TODAY)
    text_ = "\n".join(map(str, refused.value.problems))
    assert "row 3" in text_ and "check character" in text_
    assert "row 4" in text_ and "6598" in text_
    assert "row 5" in text_ and "reg_address" in text_
    assert "row 6" in text_ and "also on row 2" in text_
    assert "row 7" in text_ and "registrar '37020'" in text_
    assert conn.execute(text("SELECT count(*) FROM enterprises")).scalar_one() == before


def test_a_gbk_extract_is_imported_with_unplaceable_addresses_kept(
    conn: Connection, tmp_path: Path, demo: int
) -> None:
    rows = [
        [_code("MA0TEMP04"), "青岛导入慧谷科技有限公司", "有限责任公司", "I6513", "100", "2026-10-20", "存续",
         "", "青岛市市北区辽宁路1号", "青岛市市北区辽宁路1号", "青岛市行政审批服务局"],
        [_code("MA0TEMP05"), "青岛导入远方贸易有限公司", "有限责任公司", "5199", "50", "2019-03-01", "注销",
         "2026-10-29", "青岛市市北区辽宁路3号", "市北区辽宁路99999号", ""],
    ]  # fmt: skip
    path = _write(tmp_path / "gbk.csv", rows, "gbk")
    result = register_files.import_register(conn, AreaIndex(conn, demo), path, {}, "370203", TODAY)
    assert (result.rows, result.new, result.unresolved) == (2, 2, 1)
    query = text("SELECT name, separation FROM enterprises WHERE source = 'import:gbk.csv'")
    stored = {str(name): str(kind) for name, kind in conn.execute(query)}
    assert stored == {"青岛导入慧谷科技有限公司": "same", "青岛导入远方贸易有限公司": "unresolved"}
    query = text("SELECT name, registrar_level FROM enterprises WHERE source = 'import:gbk.csv'")
    levels = {str(name): str(level) for name, level in conn.execute(query)}
    # the one named by its authority, the other's from its code
    assert levels == {"青岛导入慧谷科技有限公司": "city", "青岛导入远方贸易有限公司": "district"}
    kinds = (
        conn.execute(text("SELECT kind FROM enterprise_events WHERE credit_code = :c"), {"c": rows[1][0]})
        .scalars()
        .all()
    )
    assert kinds == ["deregistered"]
    again = register_files.import_register(conn, AreaIndex(conn, demo), path, {}, "370203", TODAY)
    assert (again.new, again.updated) == (0, 2)
