"""Bulk import (issue 16): a community worker uploads a spreadsheet of volunteers, places or
books; the preview shows each row's mistakes by line and column and saves nothing; once every
row passes, one confirmation saves them all, or, if the data changed meanwhile, none."""

from __future__ import annotations

import io
import re

from fastapi.testclient import TestClient
from openpyxl import Workbook

from tests.web.conftest import cookie_sign_in, csrf_of


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)  # type: ignore[union-attr]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


VOLUNTEERS = [["编号", "称呼", "姓名", "电话", "小分队", "专长", "党员", "登录名"],
              ["v20", "小明", "王小明", "13900001111", "squad-1", "plumbing", "是", "wangxm"],
              ["v21", "阿芳", "", "1390000", "squad-2", "", "", ""],
              ["v22", "老周", "", "", "第九小分队", "", "", ""]]


def _upload(client: TestClient, kind: str, name: str, data: bytes):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/admin/import").text)
    return client.post("/admin/import", data={"kind": kind, "csrf_token": token},
                       files={"upload": (name, data)})


def _confirm(client: TestClient, preview_html: str):  # type: ignore[no-untyped-def]
    key = re.search(r'name="key" value="([^"]+)"', preview_html).group(1)  # type: ignore[union-attr]
    kind = re.search(r'name="kind" value="([a-z]+)"', preview_html).group(1)  # type: ignore[union-attr]
    return client.post("/admin/import/confirm", data={
        "kind": kind, "key": key, "csrf_token": csrf_of(preview_html)})


def test_the_preview_names_each_mistake_by_line_and_column_and_saves_nothing(
        client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    before = client.get("/admin/volunteers").text
    reply = _upload(client, "volunteer", "志愿者.xlsx", _xlsx(VOLUNTEERS))
    assert reply.status_code == 422
    assert "第 3 行“电话”：请填写 11 位手机号" in reply.text
    assert "第 4 行“小分队”：没有找到这一项" in reply.text
    assert "第 2 行" not in reply.text.split("有 2 行需要修改")[1].split("<h2>")[0].replace(
        'id="line-2"', "")  # line 2 is fine
    assert "确认导入" not in reply.text
    assert client.get("/admin/volunteers").text.count("王小明") == before.count("王小明") == 0


def test_a_clean_sheet_is_imported_whole_with_new_passwords_shown_once(
        client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    rows = [VOLUNTEERS[0], VOLUNTEERS[1],
            ["v21", "阿芳", "", "13900002222", "帮帮快递先锋队第二志愿服务小分队", "", "", ""]]
    preview = _upload(client, "volunteer", "volunteers.xlsx", _xlsx(rows))
    assert preview.status_code == 200 and "2 行都没有问题" in preview.text  # squad by name
    assert "王小明" not in client.get("/admin/volunteers").text  # not yet
    done = _confirm(client, preview.text)
    assert done.status_code == 200 and "已导入 2 行" in done.text
    password = re.search(r'<dt>wangxm</dt><dd><span class="secret">([^<]+)<', done.text)
    assert password
    listing = client.get("/admin/volunteers").text
    assert "王小明" in listing and "阿芳" in listing
    assert "volunteer.add" in client.get("/admin/audit").text
    client.cookies.clear()
    login = client.get("/login")
    signed = client.post("/login", follow_redirects=False, data={
        "username": "wangxm", "password": password.group(1), "csrf_token": csrf_of(login.text)})
    assert signed.status_code == 303  # the new volunteer can sign in


def test_if_the_data_changed_after_the_preview_nothing_is_saved(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    rows = [VOLUNTEERS[0], ["v30", "甲", "", "", "squad-1", "", "", ""],
            ["v31", "乙", "", "", "squad-1", "", "", ""]]
    preview = _upload(client, "volunteer", "v.xlsx", _xlsx(rows))
    assert preview.status_code == 200
    # Meanwhile someone adds v31 at the form.
    sneak = _upload(client, "volunteer", "one.xlsx", _xlsx([rows[0], rows[2]]))
    assert _confirm(client, sneak.text).status_code == 200
    late = _confirm(client, preview.text)
    assert late.status_code == 409 and "第 3 行“编号”" in late.text
    assert "甲" not in client.get("/admin/volunteers").text  # row 2 was not half-imported


def test_books_from_an_excel_csv_in_gbk_and_places_from_a_sheet(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    csv_text = "书名,作者,出版社,册数,书架\r\n红岩,罗广斌,中国青年出版社,2,A-1\r\n" \
               "平凡的世界,路遥,北京十月文艺出版社,1,A-2\r\n"
    preview = _upload(client, "book", "图书.csv", csv_text.encode("gb18030"))
    assert preview.status_code == 200, preview.text
    assert "确认导入 2 行" in preview.text
    assert _confirm(client, preview.text).status_code == 200
    library = client.get("/admin/library").text
    assert "红岩" in library and "平凡的世界" in library

    places = _xlsx([["编号", "名称", "小区编号"], ["C01-B09", "9栋", "C01"],
                    ["C01-B10", "10栋", "C99"]])
    refused = _upload(client, "building", "楼栋.xlsx", places)
    assert refused.status_code == 422 and "第 3 行“小区编号”" in refused.text


def test_the_import_is_for_admins_only(client: TestClient) -> None:
    cookie_sign_in(client, "staff")
    assert client.get("/admin/import").status_code in (401, 403)
    template = client.get("/admin/import/volunteer.xlsx")
    assert template.status_code in (401, 403)
