"""Helpers every feature's forget-me uses."""

from __future__ import annotations

import json
import re
from typing import Any


def scrub(value: Any, user_id: str) -> Any:
    """Replace a user's mentions and id inside JSON-shaped data."""
    text = json.dumps(value)
    text = re.sub(rf"<@{re.escape(user_id)}(?:\|[^>]*)?>", "a former member", text)
    return json.loads(text.replace(user_id, "someone"))
