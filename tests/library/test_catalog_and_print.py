"""The catalog import with its report, and the printed labels and cards read back with a QR
decoder (what the kiosk's scanner will see), through the services and through the command."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image
from pyzbar.pyzbar import decode
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from foundation.errors import ConfigError
from server.db import make_engine, session_factory
from server.library import services
from server.library.cli import main as library_cli
from server.library.labels import (
    A4,
    CARD_SHEET,
    LABEL_SHEET,
    CardItem,
    LabelItem,
    card_pages,
    label_pages,
    save_pages,
)
from server.library.models import Book, Copy, Patron
from server.models import utcnow
from tests.library.conftest import CONFIG, DEMO_CSV, add_resident
from tests.server.conftest import FakeClock

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"

BAD_CSV = """copy_id,title,author,isbn,category,shelf
NEW-0001,家常菜谱（大字本）,本书编写组,,健康,A-9
NEW-0002,,某人,,健康,A-9
NEW-0003,宋词选,,978-7-5383-1877-6,历史,B-9
NEW-0001,重复的编号,,,历史,B-9
LB-0001,已经有的书,,,历史,B-9
NEW-0004,"跨行
的标题",,,戏曲,D-9
NEW-0005,没有书号的书,,,园艺,C-9
NEW-0006,另一个书名,,978-7-5383-1877-7,健康,A-9
"""


def decoded(image: Image.Image) -> list[str]:
    return sorted(symbol.data.decode() for symbol in decode(image))


def test_the_demo_catalog_imports_cleanly_and_a_second_import_adds_nothing(
        db: Session, clock: FakeClock) -> None:
    text = DEMO_CSV.read_text(encoding="utf-8")
    report = services.import_catalog(db, text=text, now=clock())
    assert report.ok and report.copies_added == 19 and report.books_added == 13
    again = services.import_catalog(db, text=text, now=clock())
    assert again.copies_added == 0 and len(again.rejected) == 19
    assert {r.reason for r in again.rejected} == {"duplicate_copy_id"}
    assert db.scalar(select(func.count()).select_from(Copy)) == 19


def test_rejected_rows_are_reported_with_line_and_reason_and_good_rows_go_in(
        db: Session, clock: FakeClock) -> None:
    services.import_catalog(db, text=DEMO_CSV.read_text(encoding="utf-8"), now=clock())
    report = services.import_catalog(db, text=BAD_CSV, now=clock())
    assert [(r.line, r.reason) for r in report.rejected] == [
        (3, "missing_title"), (4, "bad_isbn"), (5, "duplicate_copy_id"),
        (6, "duplicate_copy_id"),
        (10, "isbn_title_mismatch")]  # the demo catalog has that ISBN as another title
    assert "line 2" in report.rejected[2].detail
    assert report.copies_added == 3
    assert db.scalar(select(Book).where(Book.title == "跨行 的标题")) is not None


def test_a_dry_run_changes_nothing_and_gbk_files_from_excel_are_read(
        db: Session, clock: FakeClock) -> None:
    text = services.decode_catalog(BAD_CSV.encode("gb18030"))
    assert "家常菜谱" in text
    report = services.import_catalog(db, text=text, now=clock(), dry_run=True)
    assert report.copies_added == 5  # LB-0001 and the ISBN are new to an empty catalog
    assert db.scalar(select(func.count()).select_from(Copy)) == 0


def test_a_file_without_the_needed_columns_is_refused(db: Session, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="copy_id"):
        services.import_catalog(db, text="书名,作者\n唐诗,李白\n", now=clock())


def test_label_sheets_are_a4_at_300_dpi_and_every_qr_reads_back_its_copy_id() -> None:
    items = [LabelItem(f"LB-{n:04d}", "老年人智能手机使用指南（大字版）" * (n % 3 + 1), "E-1")
             for n in range(1, LABEL_SHEET.per_page + 4)]
    pages = label_pages(items, font_path=FONT)
    assert len(pages) == 2 and all(page.size == A4 for page in pages)
    assert decoded(pages[0]) == [item.copy_id for item in items[:LABEL_SHEET.per_page]]
    assert decoded(pages[1]) == [item.copy_id for item in items[LABEL_SHEET.per_page:]]


def test_cards_carry_the_card_id_as_qr_and_render_chinese(tmp_path: Path) -> None:
    cards = [CardItem("P1234567897", "王阿姨"), CardItem("P0000000000", "李爷爷")]
    pages = card_pages(cards, font_path=FONT, site_name="劳动路社区服务站")
    assert decoded(pages[0]) == ["P0000000000", "P1234567897"]
    # the name area is drawn (dark pixels where the form of address goes), not tofu-blank
    x, y = CARD_SHEET.origin(0)
    name_box = pages[0].crop((x + 40, y + 300, x + 500, y + 420))
    assert name_box.getextrema()[0] < 50
    written = save_pages(pages, tmp_path / "cards.pdf")
    assert written[0].read_bytes().startswith(b"%PDF")
    pngs = save_pages(pages, tmp_path / "cards.png")
    with Image.open(pngs[0]) as png:
        assert round(png.info["dpi"][0]) == 300


def test_a_missing_font_is_a_config_error_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match="kiosk.font_path"):
        label_pages([LabelItem("LB-1", "书")], font_path="/nonexistent/font.ttc")


@pytest.fixture
def site_db(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The command's own database (SQLite is enough: the services are tested on both)."""
    shutil.copy(sqlite_template, tmp_path / "servicepoint.db")
    url = f"sqlite:///{tmp_path / 'servicepoint.db'}"
    monkeypatch.setenv("SERVICEPOINT_CONFIG", str(CONFIG / "servicepoint.toml"))
    monkeypatch.setenv("SERVICEPOINT_DATABASE_URL", url)
    monkeypatch.setenv("SERVICEPOINT_DATA_DIR", str(tmp_path / "data"))
    return url


def test_the_command_imports_labels_new_copies_once_and_prints_cards(
        site_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    assert library_cli(["import", str(DEMO_CSV)]) == 0
    assert library_cli(["import", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "added 13 books and 19 copies" in out
    assert "line 4: bad_isbn" in out and "line 3: missing_title" in out

    assert library_cli(["labels", "--out", str(tmp_path / "labels.png")]) == 0
    first = sorted(tmp_path.glob("labels-*.png"))
    assert len(first) == 1  # 22 copies fit on one sheet of 24
    with Image.open(first[0]) as page:
        assert len(decoded(page)) == 22 and "LB-0019" in decoded(page)
    assert library_cli(["labels"]) == 0
    assert "no new copies" in capsys.readouterr().out
    assert library_cli(["labels", "--copy", "NOPE-1"]) == 1

    engine = make_engine(site_db)
    with session_factory(engine)() as db:
        resident = add_resident(db, address_as="王阿姨", phone="13800001234")
    out_pdf = tmp_path / "cards.pdf"
    assert library_cli(["cards", "--resident", str(resident.id), "--out", str(out_pdf)]) == 0
    assert out_pdf.read_bytes().startswith(b"%PDF")
    with session_factory(engine)() as db:
        patron = db.scalar(select(Patron).where(Patron.resident_id == resident.id))
        assert patron is not None and patron.card_printed_at is not None
        card_id = patron.card_id
    engine.dispose()
    assert card_id in capsys.readouterr().out
    assert library_cli(["cards", "--resident", "999999"]) == 1

    assert library_cli(["reminders"]) == 0
    assert "0 due-soon and 0 overdue" in capsys.readouterr().out


def test_a_resident_at_the_desk_is_enrolled_with_a_pin_and_a_card(
        site_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    card_png = tmp_path / "card.png"
    assert library_cli(["enrol", "--name", "王阿姨", "--phone", "138 0000 1234",
                        "--unit", "C01-B01-U1", "--pin", "2580", "--card", str(card_png)]) == 0
    out = capsys.readouterr().out
    assert "王阿姨  enrolled, with a PIN" in out
    [printed] = sorted(tmp_path.glob("card*.png"))
    with Image.open(printed) as page:
        [card_id] = decoded(page)
    assert card_id in out

    # The same phone again is the same reader: no second card, and a new PIN replaces the old.
    assert library_cli(["enrol", "--name", "王阿姨", "--phone", "13800001234",
                        "--pin", "1357"]) == 0
    assert f"{card_id}  王阿姨  already a reader" in capsys.readouterr().out
    engine = make_engine(site_db)
    with session_factory(engine)() as db:
        assert db.scalar(select(func.count()).select_from(Patron)) == 1
        patron, _new = services.enrol_walk_in(db, address_as="王阿姨", phone="13800001234",
                                              now=utcnow())
        assert patron.card_id == card_id
        assert services.verify_pin(patron.pin_hash, "1357")
        assert not services.verify_pin(patron.pin_hash, "2580")
    engine.dispose()

    # Bad input is refused in words, and nothing is enrolled.
    for bad, words in ((["--phone", "12345"], "phone"), (["--phone", "13900001111",
                                                           "--pin", "12"], "pin"),
                       (["--phone", "13900001111", "--unit", "NOWHERE"], "unit")):
        assert library_cli(["enrol", "--name", "李爷爷", *bad]) == 2
        assert f"not enrolled: {words}" in capsys.readouterr().out
    with session_factory(make_engine(site_db))() as db:
        assert db.scalar(select(func.count()).select_from(Patron)) == 1
