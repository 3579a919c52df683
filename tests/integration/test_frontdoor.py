"""The front door's routes come from the diagrams: each way in, and the dates its clocks use."""

from __future__ import annotations

from datetime import date

import pytest

from engine.errors import InvalidData
from engine.services import Engine
from engine.services.casework import Casework
from engine.services.frontdoor import check_start


def test_portsmouth_routes_and_their_clock_dates(engine: Engine) -> None:
    engine.deploy_pack("portsmouth", "pm")
    routes = {r.process_id: r for r in Casework(engine.sessions).entry_routes("portsmouth")}
    assert set(routes) == {
        "portsmouth_after_assessment",
        "portsmouth_care_order_discharge",
        "portsmouth_return_home_planned",
        "portsmouth_return_home_unplanned",
        "portsmouth_step_down_cp",
        "portsmouth_supervision_order",
    }
    assert routes["portsmouth_after_assessment"].dates == ("cin_start_date", "transfer_date")
    assert routes["portsmouth_step_down_cp"].dates == ("cin_start_date",)
    assert routes["portsmouth_step_down_cp"].starts_with == "CP conference ends the CP plan"

    route = routes["portsmouth_step_down_cp"]
    today = date(2026, 11, 23)
    ok = {"first_name": "A", "last_name": "B", "date_of_birth": "2016-01-01"}
    assert check_start(route, {**ok, "cin_start_date": "2026-11-23"}, today) == {
        "cin_start_date": "2026-11-23"
    }
    with pytest.raises(InvalidData) as refused:
        check_start(route, {**ok, "cin_start_date": "2026-11-24"}, today)
    assert [e.message for e in refused.value.errors] == [
        "Date Child in Need support started must be today or in the past"
    ]
