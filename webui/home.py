"""Home page: what is deployed and which cases are open."""

from __future__ import annotations

from flask import Blueprint, render_template

from .engine_access import get_engine

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str:
    engine = get_engine()
    processes = list(engine.list_processes())
    cases = list(engine.list_cases())
    names = {(p.process_id, p.version): p.name for p in processes}
    latest_names = {p.process_id: p.name for p in processes}

    def process_name(case) -> str:
        return names.get((case.process_id, case.version)) or latest_names.get(
            case.process_id, case.process_id
        )

    return render_template(
        "home/index.html",
        processes=processes,
        cases=cases,
        process_name=process_name,
    )
