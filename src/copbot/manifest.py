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


ORG_DEPLOY_OFF = "  org_deploy_enabled: false\n"
ORG_DEPLOY_ON = (
    "  # Enterprise Grid: install once for the whole organisation (OAuth mode; an org admin chooses the\n"
    "  # workspaces). Communities still belong to the workspace of their channel.\n"
    "  org_deploy_enabled: true\n"
)


def render(*, url: str | None = None, socket_mode: bool = False, org: bool = False) -> str:
    """Return the manifest YAML; in HTTP mode, with `url` as the base of every request URL.

    `org`: the Enterprise Grid variant, ready for an org-wide install (`org_deploy_enabled: true`).
    """
    name = "socket-mode.yaml" if socket_mode else "http.yaml"
    text = (manifests_dir() / name).read_text(encoding="utf-8")
    if url and not socket_mode:
        text = text.replace(PLACEHOLDER, url.rstrip("/"))
    if org and ORG_DEPLOY_OFF not in text and "org_deploy_enabled: true" in text:
        return text  # the manifest is org-ready already (custom workflow steps need it)
    if org:
        if ORG_DEPLOY_OFF not in text:
            raise ValueError(f"{name} has no `org_deploy_enabled: false` line to switch on")
        text = text.replace(ORG_DEPLOY_OFF, ORG_DEPLOY_ON)
    return text
