"""The ``sqla_lite`` example driven in Debian's chromium through Playwright:
what each page shows, and what the database holds after it."""

from __future__ import annotations

import collections.abc as cabc
import os
import pathlib
import re
import typing as t

import pytest
import sqlalchemy as sa

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

CHROMIUM = pathlib.Path("/usr/bin/chromium")
"""Debian's chromium; Playwright's own browser downloads are never used."""

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
"""Headless flags for a machine without a display or a network."""


def unavailable(reason: str) -> t.NoReturn:
    """Skip, or fail when ``SQLA_LITE_REQUIRE_BROWSER=1`` (as in CI)."""
    if os.environ.get("SQLA_LITE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (required by SQLA_LITE_REQUIRE_BROWSER=1)")

    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> cabc.Iterator[Browser]:
    """Headless chromium, from ``/usr/bin/chromium``."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the 'playwright' package is missing: 'pip install playwright'")

    if not CHROMIUM.is_file():
        unavailable(f"{CHROMIUM} is missing: 'apt-get install chromium'")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def base_url(
    examples_dir: pathlib.Path,
    sqlite_url: str,
    serve_example: cabc.Callable[[pathlib.Path, str | None], str],
) -> str:
    """The example run by its one command on the test's SQLite file.

    It runs in a process of its own: an app context popped in this thread, with
    Playwright's event loop running here, would fail in Flask-SQLAlchemy-Lite's
    async teardown.
    """
    return serve_example(examples_dir / "sqla_lite" / "app.py", sqlite_url)


@pytest.fixture
def page(browser: Browser, base_url: str) -> cabc.Iterator[Page]:
    """A fresh browser tab on the example; it fails on any script error."""
    context = browser.new_context(
        base_url=base_url, viewport={"width": 1100, "height": 700}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


@pytest.fixture
def screenshot(page: Page, pytestconfig: pytest.Config) -> cabc.Callable[[str], None]:
    """Save what the tab shows as ``artifacts/browser/NAME.png``."""
    directory = pytestconfig.rootpath / "artifacts" / "browser"
    directory.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> None:
        page.screenshot(path=directory / f"{name}.png")

    return take


def scalar(database: sa.Engine, query: str) -> t.Any:
    """The single value ``query`` selects from the example's SQLite file."""
    with database.connect() as conn:
        return conn.execute(sa.text(query)).scalar()


def listed_titles(page: Page) -> list[str]:
    """The book titles in the list view's table."""
    return [title.strip() for title in page.locator("td.col-title").all_inner_texts()]


def test_create_edit_details_delete(
    page: Page, database: sa.Engine, screenshot: cabc.Callable[[str], None]
) -> None:
    """A book is created with its author chosen through the ajax select and an
    inline review, then edited, viewed and deleted, each change in the database."""
    from playwright.sync_api import expect

    page.goto("/admin/book/")
    assert len(listed_titles(page)) == scalar(database, "SELECT count(*) FROM book")
    expect(page.locator("a.nav-link.active")).to_have_text("List (6)")
    screenshot("01-list")

    page.get_by_role("link", name="Create", exact=True).click()
    page.fill("#title", "Invisible Cities")
    page.fill("#year", "1972")
    page.click("#s2id_author a.select2-choice")
    page.fill(".select2-drop-active input.select2-input", "calv")
    choice = page.locator(".select2-drop-active .select2-result-selectable")
    expect(choice).to_have_text(["Italo Calvino"])
    screenshot("02-create-ajax-select")
    choice.click()
    expect(page.locator("#s2id_author .select2-chosen")).to_have_text("Italo Calvino")
    page.click("#reviews-button")
    page.fill("#reviews-0-reviewer", "Kim")
    page.fill("#reviews-0-rating", "5")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".alert-success")).to_contain_text("successfully created")
    assert "Invisible Cities" in listed_titles(page)
    book_id = scalar(
        database,
        "SELECT book.id FROM book JOIN author ON author.id = book.author_id"
        " JOIN review ON review.book_id = book.id WHERE book.title ="
        " 'Invisible Cities' AND author.name = 'Italo Calvino' AND"
        " review.reviewer = 'Kim' AND review.rating = 5",
    )
    assert book_id is not None
    screenshot("03-created")

    row = page.locator("tr", has_text="Invisible Cities")
    row.get_by_title("Edit Record").click()
    expect(page.locator("#s2id_author .select2-chosen")).to_have_text("Italo Calvino")
    expect(page.locator("#reviews-0-reviewer")).to_have_value("Kim")
    page.fill("#year", "1974")
    screenshot("04-edit")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".alert-success")).to_contain_text("successfully saved")
    expect(row.locator("td.col-year")).to_have_text("1974")
    assert scalar(database, f"SELECT year FROM book WHERE id = {book_id}") == 1974

    row.get_by_title("View Record").click()
    details = page.locator("table.searchable")
    expect(details).to_contain_text("Invisible Cities")
    expect(details).to_contain_text("Italo Calvino")
    expect(details).to_contain_text("1974")
    screenshot("05-details")

    page.goto("/admin/book/")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_title("Delete Record").click()

    expect(page.locator(".alert-success")).to_contain_text("successfully deleted")
    assert "Invisible Cities" not in listed_titles(page)
    assert scalar(database, f"SELECT count(*) FROM book WHERE id = {book_id}") == 0
    assert (
        scalar(database, f"SELECT count(*) FROM review WHERE book_id = {book_id}") == 0
    )
    screenshot("06-deleted")


def test_search_filter_export(
    page: Page, database: sa.Engine, screenshot: cabc.Callable[[str], None]
) -> None:
    """Searching, filtering and exporting the books show what the database holds."""
    from playwright.sync_api import expect

    page.goto("/admin/book/")
    page.fill("input[name=search]", "pratchett")
    page.keyboard.press("Enter")

    expect(page.locator("td.col-title")).to_have_count(2)
    assert sorted(listed_titles(page)) == ["Guards! Guards!", "Small Gods"]
    screenshot("07-search")

    page.goto("/admin/book/")
    page.get_by_role("link", name="Add Filter").click()
    page.locator(".field-filters a.filter", has_text="Year").click()
    page.locator("#filter_form .select2-container").click()
    page.locator(
        ".select2-drop-active .select2-result-selectable",
        has_text=re.compile("^greater than$"),
    ).click()
    page.fill("#filter_form input.filter-val", "1990")
    page.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(r"flt\d+_year_greater_than=1990"))
    after_1990 = scalar(database, "SELECT count(*) FROM book WHERE year > 1990")
    expect(page.locator("td.col-title")).to_have_count(after_1990)
    assert sorted(listed_titles(page)) == ["Parable of the Sower", "Small Gods"]
    screenshot("08-filter")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export").click()

    exported = pathlib.Path(download_info.value.path()).read_text()
    screenshot("09-export")
    assert exported.splitlines() == [
        "Title,Year,Author",
        "Small Gods,1992,Terry Pratchett",
        "Parable of the Sower,1993,Octavia E. Butler",
    ]


def test_concurrent_edit_refused(
    browser: Browser,
    base_url: str,
    database: sa.Engine,
    pytestconfig: pytest.Config,
) -> None:
    """Two admins edit the same book: the second save is refused with a message
    naming the changed field, the form keeps the input, and a reload then save
    works; an inline edit of a changed row shows the message in its popup."""
    from playwright.sync_api import expect

    contexts = [
        browser.new_context(base_url=base_url, viewport={"width": 1100, "height": 560})
        for _ in range(2)
    ]
    first, second = (context.new_page() for context in contexts)
    book_id = scalar(database, "SELECT id FROM book WHERE title = 'Kindred'")
    for page in (first, second):
        page.goto(f"/admin/book/edit/?id={book_id}")

    first.fill("#title", "Kindred: a novel")
    first.get_by_role("button", name="Save", exact=True).click()
    expect(first.locator(".alert-success")).to_contain_text("successfully saved")
    second.fill("#year", "1980")
    second.get_by_role("button", name="Save", exact=True).click()

    alert = second.locator(".alert-danger")
    expect(alert).to_contain_text("Someone else changed this record")
    expect(alert).to_contain_text("title (now 'Kindred: a novel')")
    expect(second.locator("#year")).to_have_value("1980")
    expect(second.locator("#title")).to_have_value("Kindred")
    assert scalar(database, f"SELECT year FROM book WHERE id = {book_id}") == 1979
    directory = pytestconfig.rootpath / "artifacts" / "browser"
    directory.mkdir(parents=True, exist_ok=True)
    second.screenshot(path=directory / "sqla_lite_concurrent_edit.png")

    alert.get_by_role("link", name="Reload the record").click()
    expect(second.locator("#title")).to_have_value("Kindred: a novel")
    second.fill("#year", "1980")
    second.get_by_role("button", name="Save", exact=True).click()
    expect(second.locator(".alert-success")).to_contain_text("successfully saved")
    assert scalar(database, f"SELECT year FROM book WHERE id = {book_id}") == 1980

    for page in (first, second):
        page.goto("/admin/book/")
    for page, year in ((first, "1981"), (second, "1982"), (first, "1983")):
        row = page.locator("tr", has_text="Kindred: a novel")
        row.locator("a[data-role='x-editable']").click()
        page.fill(".editable-input input", year)
        page.click(".editable-submit")
        if page is second:
            expect(page.locator(".editable-error-block")).to_contain_text(
                "Someone else changed this record"
            )
        else:
            expect(row.locator("a[data-role='x-editable']")).to_have_text(year)
    assert scalar(database, f"SELECT year FROM book WHERE id = {book_id}") == 1983

    for context in contexts:
        context.close()
