"""The shell in a real browser on a phone and tablets: login, home, admin pages, language, errors.

Each step leaves a screenshot in tests/browser/artifacts/ named `<device>-<page>-<lang>.png`.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import DEVICES

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "shunliu-demo"
TAP = 44

# Every visible tappable element smaller than TAP x TAP. A checkbox counts together with its
# labels (tapping the label toggles it); sr-only elements (1 px) are not visible.
SMALL_TAP_TARGETS_JS = """
(tap) => {
  const box = (el) => el.getBoundingClientRect();
  const visible = (el) => {
    const r = box(el);
    return el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
      && r.width > 1 && r.height > 1;
  };
  const isCheck = (el) => el.matches('input[type=checkbox], input[type=radio]');
  const describe = (el, r) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}` +
    ` "${(el.textContent || el.value || el.name || '').trim().slice(0, 30)}"` +
    ` ${Math.round(r.width)}x${Math.round(r.height)}`;
  const small = [];
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, label';
  for (const el of document.querySelectorAll(sel)) {
    if (el.tagName === 'LABEL' && !(el.control && isCheck(el.control))) continue;
    if (!visible(el)) continue;
    let r = box(el);
    if (isCheck(el)) {
      let [l, t, rt, b] = [r.left, r.top, r.right, r.bottom];
      for (const q of [...(el.labels || [])].map(box)) {
        [l, t] = [Math.min(l, q.left), Math.min(t, q.top)];
        [rt, b] = [Math.max(rt, q.right), Math.max(b, q.bottom)];
      }
      r = {width: rt - l, height: b - t};
    }
    if (r.width < tap - 0.5 || r.height < tap - 0.5) small.push(describe(el, r));
  }
  return small;
}
"""


def assert_tap_targets(page: Any) -> None:
    small = page.evaluate(SMALL_TAP_TARGETS_JS, TAP)
    assert not small, f"tap targets under {TAP}x{TAP} px on {page.url}: {small}"


def assert_no_horizontal_scroll(page: Any) -> None:
    widths = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"horizontal scrolling on {page.url}: {widths}"


def check_layout(page: Any, device: str) -> None:
    """On the phone: no sideways scrolling, and every tap target is at least TAP x TAP."""
    if device == "phone":
        assert_no_horizontal_scroll(page)
        assert_tap_targets(page)


def translated(app: Any, text: str, locale: str = "zh_CN") -> str:
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale(locale):
        return gettext(text)


def log_in(page: Any, login: str) -> None:
    page.fill("#login", login)
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("#login-form button[type=submit]")


@pytest.mark.parametrize("device", DEVICES)
def test_admin_walks_through_the_shell(app, demo, new_page, screenshot, device):
    page = new_page(device)
    lang = page.locator("html")

    page.goto("/login")
    assert lang.get_attribute("lang") == "zh-CN"
    assert page.locator(".lang-switch button[value=zh_CN]").get_attribute("aria-pressed") == "true"
    # Chinese wherever the catalogue has it (the words fall back to English until translated).
    assert translated(app, "Log in") in page.locator("#login-form button[type=submit]").inner_text()
    check_layout(page, device)
    screenshot(page, f"{device}-login-zh")

    log_in(page, "admin")
    assert page.url.endswith("/")
    assert "admin" in page.locator("main h1").inner_text()
    nav = page.locator("nav.sidenav")
    assert nav.locator("a[href='/admin/users']").count() == 1
    check_layout(page, device)
    screenshot(page, f"{device}-home-zh")

    nav.locator("a[href='/admin/users']").click()
    page.wait_for_url("**/admin/users")
    assert page.locator("#user-rows tr[id^=user-]").count() >= 5
    check_layout(page, device)
    screenshot(page, f"{device}-users-zh")

    nav.locator("a[href='/admin/departments']").click()
    page.wait_for_url("**/admin/departments")
    assert page.locator("#department-tree li[id^=department-]").count() == 6
    check_layout(page, device)
    screenshot(page, f"{device}-departments-zh")

    nav.locator("a[href='/admin/users']").click()
    page.wait_for_url("**/admin/users")
    page.locator("#user-rows a", has_text="staff").first.click()
    page.wait_for_url("**/admin/users/*")
    form = page.locator("#user-form")
    assert form.locator("#login").input_value() == "staff"
    check_layout(page, device)
    screenshot(page, f"{device}-user-edit-zh")

    with page.expect_navigation():
        page.locator("header.topbar .lang-switch button[value=en]").click()
    assert lang.get_attribute("lang") == "en"
    assert page.locator("header.topbar").get_by_role("button", name="Log out").is_visible()
    assert "Users" in nav.inner_text()
    assert form.locator("label[for=email]").inner_text() == "E-mail"
    check_layout(page, device)
    screenshot(page, f"{device}-user-edit-en")

    form.locator("#email").fill("not-an-email")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        form.locator("button[type=submit]").click()
    assert posted.value.status == 422
    error = page.locator("#user-form #field-email .error")
    error.wait_for()
    assert "Invalid email" in error.inner_text()
    assert page.locator("#email").get_attribute("aria-invalid") == "true"
    assert page.locator("#email").input_value() == "not-an-email"
    assert page.locator("#user-form .error").count() == 1
    check_layout(page, device)
    screenshot(page, f"{device}-user-edit-invalid-en")

    with page.expect_navigation():
        page.locator("header.topbar").get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    assert page.locator("#flash").inner_text().strip() == "You have logged out."
    check_layout(page, device)
    screenshot(page, f"{device}-logged-out-en")
    assert not page.js_errors


def test_staff_sees_no_admin_menu_and_gets_403(demo, new_page, screenshot):
    page = new_page("phone")
    page.goto("/login")
    log_in(page, "staff")
    nav = page.locator("nav.sidenav")
    assert nav.locator("a").count() >= 1
    assert nav.locator("a[href^='/admin']").count() == 0
    check_layout(page, "phone")
    screenshot(page, "phone-home-staff-zh")

    resp = page.goto("/admin/users")
    assert resp.status == 403
    assert page.locator("#error-403").is_visible()
    assert page.locator("#user-rows").count() == 0
    check_layout(page, "phone")
    screenshot(page, "phone-403-staff-zh")
    assert not page.js_errors
