"""The packs' YAML files (timescales, lanes, journeys, coverage), parsed with libyaml when present.

PyYAML's pure-Python parser was a tenth of a journey's CPU time (every engine reads its councils'
timescales and lanes, every journey run reads its file), and libyaml's safe loader builds the same
values ten times faster. A document libyaml refuses is parsed again by the pure-Python loader, so
a person editing a file reads the same message with or without libyaml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_FAST = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(text: str) -> Any:
    """A YAML document's values, as `yaml.safe_load` gives them."""
    try:
        return yaml.load(text, Loader=_FAST)  # noqa: S506 - a safe loader (libyaml's SafeLoader)
    except yaml.YAMLError:
        return yaml.safe_load(text)  # raises PyYAML's own message for the same problem


def read(path: Path) -> Any:
    """A YAML file's values (UTF-8)."""
    return parse(path.read_text(encoding="utf-8"))
