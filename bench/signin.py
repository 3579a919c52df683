"""Sign-in refusals cost the same whoever is asked about: unknown user vs wrong password.

    .venv/bin/python bench/signin.py [--rounds 30]

With the production argon2 cost (engine/passwords.py), on a temporary SQLite database, the
engine's `People.sign_in` is timed side by side, interleaved round by round, for: a wrong
password for a real account, an unknown username, a locked account and a deactivated one.
Each is compared with the wrong-password median; an attacker timing the answers must not tell
them apart. Target: every ratio within 0.85-1.15. Exit status 1 when one is outside.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.people import MAX_FAILURES  # noqa: E402
from engine.services import Engine  # noqa: E402

PASSWORD = "correct horse battery staple"
LOW, HIGH = 0.85, 1.15


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = Engine(f"sqlite:///{folder}/signin.db")
        engine.init_db()
        people = engine.people
        people.add_team("north", "portsmouth", "North")
        for name in ("real", "locked", "gone"):
            people.add_user(name, name.title(), PASSWORD, "social_worker", ["north"], by="bench")
        for _ in range(MAX_FAILURES):
            people.sign_in("locked", "wrong")
        people.set_active("gone", False, by="bench")
        cases = {
            "wrong password": ("real", "wrong guess 123"),
            "unknown user": ("nobody.here", "wrong guess 123"),
            "locked account": ("locked", "wrong guess 123"),
            "deactivated account": ("gone", PASSWORD),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, (user, password) in cases.items():
                began = time.perf_counter()
                result = people.sign_in(user, password)
                times[name].append(time.perf_counter() - began)
                assert result.user is None
                if name == "wrong password":
                    people.unlock("real", by="bench")  # never let the control lock itself
        engine.dispose()
    base = statistics.median(times["wrong password"])
    print(f"sign-in refusals, {args.rounds} interleaved rounds, median ms and ratio:")
    failed = False
    for name, samples in times.items():
        ratio = statistics.median(samples) / base
        ok = LOW <= ratio <= HIGH
        failed |= not ok
        print(f"  {name:22} {statistics.median(samples) * 1000:7.1f} ms  {ratio:4.2f}x"
              f"  {'ok' if ok else 'OUTSIDE ' + f'{LOW}-{HIGH}'}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
