"""The enterprise directory over HTTP: filters, credit-code checks, edits, CSV/XLSX import."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from api.app import create_app
from config.settings import Settings
from domain.credit_code import make_credit_code
from tests.integration.apiclient import admin, error_code, role_headers, seed

CODE = make_credit_code("330102", 424242)
BAD = CODE[:17] + ("0" if CODE[17] != "0" else "1")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def _body(**extra: object) -> dict[str, object]:
    return {
        "credit_code": CODE,
        "name": "杭州测试化工有限公司",
        "county": "上城区",
        "sector": "hazchem_production",
    } | extra


def test_create_read_patch_with_audit_and_live_change(client: TestClient) -> None:
    h = admin(client)
    res = client.post("/api/v1/enterprises", json=_body(risk_colour="orange"), headers=h)
    assert res.status_code == 201, res.text
    assert res.json()["risk_colour"] == "orange"
    assert client.post("/api/v1/enterprises", json=_body(), headers=h).status_code == 409
    got = client.get(f"/api/v1/enterprises/{CODE}", headers=h).json()
    assert got["name"] == "杭州测试化工有限公司"
    res = client.patch(f"/api/v1/enterprises/{CODE}", json={"risk_colour": "red"}, headers=h)
    assert res.status_code == 200, res.text
    assert res.json()["risk_colour"] == "red"
    assert res.json()["county"] == "上城区"
    res = client.patch(f"/api/v1/enterprises/{CODE}", json={"name": None}, headers=h)
    assert res.status_code == 422
    trail = client.get("/api/v1/audit", params={"target": f"enterprise:{CODE}"}, headers=h).json()
    assert [e["action"] for e in trail["items"]] == ["enterprise.update", "enterprise.create"]
    assert trail["items"][0]["before"] == {"risk_colour": "orange"}
    assert trail["items"][0]["after"] == {"risk_colour": "red"}


def test_a_code_failing_its_check_is_refused_naming_the_check_character(
    client: TestClient,
) -> None:
    h = admin(client)
    for res in (
        client.post("/api/v1/enterprises", json=_body(credit_code=BAD), headers=h),
        client.get(f"/api/v1/enterprises/{BAD}", headers=h),
        client.patch(f"/api/v1/enterprises/{BAD}", json={"name": "x"}, headers=h),
    ):
        assert res.status_code == 422
        assert error_code(res) == "validation_failed"
        assert f"应为“{CODE[17]}”" in str(res.json()["error"])
        assert "校验码" in str(res.json()["error"])


def test_filters_and_pagination(client: TestClient, db_url: str) -> None:
    h = admin(client)
    codes = seed(db_url, 30)
    page = client.get("/api/v1/enterprises", params={"limit": 10}, headers=h).json()
    assert page["total"] == 30
    assert len(page["items"]) == 10
    assert [e["credit_code"] for e in page["items"]] == sorted(codes)[:10]
    # The demo directory spreads over the region's ten counties and zones (config/region.yaml).
    county = client.get("/api/v1/enterprises", params={"county": "昌吉市"}, headers=h).json()
    assert county["total"] == 3
    assert {e["county"] for e in county["items"]} == {"昌吉市"}
    red = client.get("/api/v1/enterprises", params={"risk_colour": "red"}, headers=h).json()
    assert all(e["risk_colour"] == "red" for e in red["items"])
    res = client.get("/api/v1/enterprises", params={"risk_colour": "purple"}, headers=h)
    assert res.status_code == 422
    res = client.get("/api/v1/enterprises", params={"limit": 0}, headers=h)
    assert res.status_code == 422


def test_enterprise_account_sees_only_its_own(client: TestClient, db_url: str) -> None:
    mine, other, *_ = seed(db_url, 3)
    roles = role_headers(client, db_url, mine)
    ent = roles["enterprise"]
    listed = client.get("/api/v1/enterprises", headers=ent).json()
    assert [e["credit_code"] for e in listed["items"]] == [mine]
    assert client.get(f"/api/v1/enterprises/{mine}", headers=ent).status_code == 200
    res = client.get(f"/api/v1/enterprises/{other}", headers=ent)
    assert res.status_code == 403
    assert error_code(res) == "forbidden"
    assert (
        client.patch(f"/api/v1/enterprises/{mine}", json={"name": "x"}, headers=ent).status_code
        == 403
    )
    for role in ("duty", "inspector"):
        res = client.patch(f"/api/v1/enterprises/{mine}", json={"name": "x"}, headers=roles[role])
        assert res.status_code == 403
    res = client.patch(
        f"/api/v1/enterprises/{mine}", json={"address": "新地址"}, headers=roles["supervisor"]
    )
    assert res.status_code == 200


CSV_TEXT = (
    "统一社会信用代码,企业名称,区县,行业,风险等级,信用等级,高危,联系人,重大危险源等级,备注\n"
    f"{CODE},杭州一号化工有限公司,上城区,hazchem_production,红,A,是,张三|123|安全员,二级,x\n"
    f"{BAD},坏代码公司,上城区,hazchem_trade,蓝,B,否,,,\n"
    f"{make_credit_code('330105', 1)},杭州二号有限公司,拱墅区,industry_trade,紫色,B,maybe,,,\n"
    "\n"
    f"{make_credit_code('330105', 2)},杭州三号有限公司,拱墅区,industry_trade,黄,C,否,,五级,\n"
    f"{make_credit_code('330105', 3)},杭州四号有限公司,拱墅区,industry_trade,黄,C,否,,,\n"
    f"{CODE},重复公司,上城区,hazchem_production,红,A,是,,,\n"
)


def test_csv_import_keeps_valid_rows_and_reports_each_bad_one(client: TestClient) -> None:
    h = admin(client)
    files = {"file": ("ents.csv", CSV_TEXT.encode("gb18030"), "text/csv")}
    res = client.post("/api/v1/enterprises/import", files=files, headers=h)
    assert res.status_code == 200, res.text
    report = res.json()
    assert (report["rows"], report["created"], report["updated"]) == (6, 2, 0)
    assert report["rejected"] == 4
    by_row = {(e["row"], e["column"]): e["reason"] for e in report["errors"]}
    assert "校验码" in by_row[(3, "统一社会信用代码")]
    assert (4, "风险等级") in by_row
    assert "maybe" in by_row[(4, "高危")]
    assert "五级" in by_row[(6, "重大危险源等级")]
    assert by_row[(8, "统一社会信用代码")] == "与第2行重复"
    assert [w["column"] for w in report["warnings"]] == ["备注"]
    assert report["warnings"][0]["reason"] == "无法识别的列，已忽略"
    # The same report for an English reader (Accept-Language), every reason in English.
    again = client.post(
        "/api/v1/enterprises/import?dry_run=true",
        files=files,
        headers=h | {"Accept-Language": "en"},
    ).json()
    by_row_en = {(e["row"], e["column"]): e["reason"] for e in again["errors"]}
    assert by_row_en[(8, "统一社会信用代码")] == "repeats row 2"
    assert "check character" in by_row_en[(3, "统一社会信用代码")]
    one = client.get(f"/api/v1/enterprises/{CODE}", headers=h).json()
    assert one["risk_colour"] == "red"
    assert one["high_risk"] is True
    assert one["major_hazard_level"] == 2
    assert one["contacts"] == [{"name": "张三", "phone": "123", "role": "安全员"}]
    again = client.post("/api/v1/enterprises/import", files=files, headers=h).json()
    assert (again["created"], again["updated"]) == (0, 2)
    trail = client.get("/api/v1/audit", params={"action": "enterprise.import"}, headers=h).json()
    assert trail["total"] == 2


def test_xlsx_import_and_dry_run(client: TestClient) -> None:
    h = admin(client)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        ["credit_code", "企业名称", "区县", "行业", "风险等级", "信用等级", "重大危险源等级"]
    )
    sheet.append([CODE, "XLSX 公司", "滨江区", "fireworks", "蓝", "A", 2])
    sheet.append(["", "无代码", "滨江区", "fireworks", "蓝", "A", 1])
    buf = io.BytesIO()
    book.save(buf)
    files = {"file": ("e.xlsx", buf.getvalue(), "application/octet-stream")}
    dry = client.post("/api/v1/enterprises/import?dry_run=true", files=files, headers=h).json()
    assert dry["dry_run"] is True
    assert dry["created"] == 0
    assert client.get(f"/api/v1/enterprises/{CODE}", headers=h).status_code == 404
    report = client.post("/api/v1/enterprises/import", files=files, headers=h).json()
    assert report["created"] == 1
    assert report["rejected"] == 1
    assert {e["column"] for e in report["errors"]} == {"credit_code"}
    assert client.get(f"/api/v1/enterprises/{CODE}", headers=h).json()["major_hazard_level"] == 2


def test_import_refuses_unreadable_files_clearly(client: TestClient) -> None:
    h = admin(client)
    for data, expected in (
        (b"", "文件是空的"),
        (b"name,county\nx,y\n", "统一社会信用代码"),
        (b"PK\x03\x04garbage", "XLSX"),
    ):
        res = client.post(
            "/api/v1/enterprises/import", files={"file": ("f.csv", data, "text/csv")}, headers=h
        )
        assert res.status_code == 422, res.text
        assert expected in str(res.json()["error"])


@pytest.mark.parametrize(
    ("url", "header", "row", "action"),
    [
        (
            "/api/v1/enterprises/import",
            "统一社会信用代码,企业名称,区县,行业,风险等级,信用等级",
            f"{make_credit_code('330106', 77)},共用管道化工有限公司,西湖区,hazchem_production,黄,B",
            "enterprise.import",
        ),
        (
            "/api/v1/inspectors/import",
            "人员编号,姓名,部门,区县,执法证号,证件有效期起,证件有效期止,专家",
            "ZF-077,共用管道,应急管理局,西湖区,浙A-0077,2024-01-01,2029-12-31,否",
            "inspector.import",
        ),
    ],
)
def test_directory_imports_share_one_pipeline(
    client: TestClient, url: str, header: str, row: str, action: str
) -> None:
    """Enterprises and officers go through api.directory_import.import_upload: the same
    refusal of a missing required column, the same warnings, dry run and audit."""
    h = admin(client)
    first, *_ = header.split(",")
    no_key = ",".join(header.split(",")[1:]) + "\n" + ",".join(row.split(",")[1:]) + "\n"
    res = client.post(url, files={"file": ("f.csv", no_key.encode(), "text/csv")}, headers=h)
    assert res.status_code == 422, res.text
    details = res.json()["error"]["details"]
    assert details["missing"] == [first]
    assert [p["column"] for p in details["problems"]] == [first]
    table = f"{header},备注\n{row},多余\n".encode()
    files = {"file": ("f.csv", table, "text/csv")}
    dry = client.post(f"{url}?dry_run=true", files=files, headers=h).json()
    assert (dry["rows"], dry["created"], dry["dry_run"]) == (1, 0, True)
    assert [w["column"] for w in dry["warnings"]] == ["备注"]
    done = client.post(url, files=files, headers=h).json()
    assert (done["created"], done["updated"], done["rejected"]) == (1, 0, 0)
    trail = client.get("/api/v1/audit", params={"action": action}, headers=h).json()
    assert trail["total"] == 1
