"""The Slack app manifests in `manifests/`, with the public request URL filled in."""

from __future__ import annotations

from pathlib import Path

import copbot

PLACEHOLDER = "https://copbot.example.com"


def manifests_dir() -> Path:
    """Find the manifests: inside the installed package, or beside `src/` in a checkout."""
    package = Path(copbot.__file__).resolve().parent
    for candidate in (package / "_manifests", package.parents[1] / "manifests"):
        if (candidate / "http.yaml").is_file():
            return candidate
    raise FileNotFoundError("copbot's manifests are missing from this installation")


def render(*, url: str | None = None, socket_mode: bool = False) -> str:
    """Return the manifest YAML; in HTTP mode, with `url` as the base of every request URL."""
    name = "socket-mode.yaml" if socket_mode else "http.yaml"
    text = (manifests_dir() / name).read_text(encoding="utf-8")
    if url and not socket_mode:
        text = text.replace(PLACEHOLDER, url.rstrip("/"))
    return text
