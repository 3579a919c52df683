"""The pages security work added, in a real browser under the strict policy, checked with axe."""

from __future__ import annotations


def test_users_page_for_admins(page, sign_in, axe) -> None:  # noqa: ANN001
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, "admin")
    response = page.goto("/admin/users")
    assert response is not None and response.status == 200
    assert page.locator("h1").inner_text() == "Users"
    assert page.get_by_test_id("user-row").count() >= 5
    axe.assert_no_violations(page)
    assert errors == []  # nothing refused by the Content-Security-Policy, nothing else broken


def test_too_large_page(page, axe) -> None:  # noqa: ANN001
    page.goto("/sign-in")
    with page.expect_navigation():
        page.evaluate(
            """() => {
                const form = document.querySelector("form[method=post]");
                const big = document.createElement("input");
                big.type = "hidden"; big.name = "padding"; big.value = "x".repeat(2 * 1024 * 1024);
                form.append(big);
                form.submit();
            }"""
        )
    assert page.locator("h1").inner_text() == "What you sent is too large"
    axe.assert_no_violations(page)
