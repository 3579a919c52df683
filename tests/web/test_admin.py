"""Admins unlock, deactivate and reactivate people from the Users page; nobody else can."""

from __future__ import annotations

import pytest
from factories import PASSWORD
from web_client import ClientRequest

from engine.people import MAX_FAILURES


@pytest.fixture
def admin(client_request):  # noqa: ANN001, ANN201
    return client_request.sign_in("admin")


def status_of(page, username: str) -> str:  # noqa: ANN001
    (row,) = page.xpath(f'//tr[@data-username="{username}"]')
    return page.text_of(row.xpath("./td")[3])


def test_users_page_lists_people_and_only_admins_see_it(admin, new_client_request) -> None:  # noqa: ANN001
    page = admin.get("/admin/users")
    assert page.h1 == "Users"
    assert status_of(page, "sw.north") == "Active"
    nav = page.xpath('//nav[contains(@class, "govuk-service-navigation__wrapper")]//a')
    assert "Users" in [page.text_of(a) for a in nav]
    for who in ("sw.north", "tm.north", "pm.north", "trainer.north"):
        new_client_request().sign_in(who).get("/admin/users", _expected_status=403)
        other = new_client_request().sign_in(who)
        other.post("/admin/users/sw.north/deactivate", _expected_status=403)


def test_deactivating_signs_the_person_out_everywhere(app, admin, engine) -> None:  # noqa: ANN001
    sam = ClientRequest(app).sign_in("sw.north")
    sam.get("/worklist")
    done = admin.post("/admin/users/sw.north/deactivate", _expected_redirect="/admin/users")
    page = admin.follow(done)
    assert page.banners() == [
        "Success Sam North is deactivated They have been signed out everywhere and cannot sign in."
    ]
    assert status_of(page, "sw.north") == "Deactivated"
    sam.get("/worklist", _expected_status=302)
    assert engine.people.sign_in("sw.north", PASSWORD).user is None
    assert [e.actor for e in engine.audit_trail(action="user_deactivated")] == ["admin"]

    admin.post("/admin/users/sw.north/activate")
    assert engine.people.sign_in("sw.north", PASSWORD).user is not None


def test_an_admin_unlocks_a_locked_account(admin, engine) -> None:  # noqa: ANN001
    for _ in range(MAX_FAILURES):
        engine.people.sign_in("sw.north", "wrong password")
    assert status_of(admin.get("/admin/users"), "sw.north") == "Locked"
    page = admin.follow(admin.post("/admin/users/sw.north/unlock"))
    assert page.banners() == ["Success Sam North can sign in again"]
    assert status_of(page, "sw.north") == "Active"
    assert engine.people.sign_in("sw.north", PASSWORD).user is not None


def test_an_admin_cannot_deactivate_themselves_and_unknown_users_are_404(admin) -> None:  # noqa: ANN001
    page = admin.follow(admin.post("/admin/users/admin/deactivate"))
    assert page.banners() == ["Important You cannot deactivate yourself Ask another administrator."]
    admin.get("/admin/users")
    admin.post("/admin/users/nobody/deactivate", _expected_status=404)
