"""Read package versions from an MSBuild ``Directory.Packages.props`` (central package management)."""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException


class PropsError(ValueError):
    """The props file cannot be used; the message names the file."""


def _local(tag: str) -> str:
    # Old-style MSBuild files carry the 2003 namespace; SDK-style ones none. Both are valid.
    return tag.rsplit("}", 1)[-1]


def parse_props(text: str, where: str) -> dict[str, str]:
    """NuGet id -> version for every ``PackageVersion`` item. ``where`` names the file in errors."""
    try:
        root: Element = SafeET.fromstring(text)
    except DefusedXmlException as exc:
        raise PropsError(f"{where}: refused unsafe XML ({type(exc).__name__})") from exc
    except SafeET.ParseError as exc:
        raise PropsError(f"{where}: not well-formed XML ({exc})") from exc
    if _local(root.tag) != "Project":
        raise PropsError(f"{where}: root element is <{_local(root.tag)}>, expected an MSBuild <Project>")
    versions: dict[str, str] = {}
    spelled: dict[str, str] = {}  # lowercased id -> its first spelling in the file
    for element in root.iter():
        if _local(element.tag) != "PackageVersion":
            continue
        name = (element.get("Include") or element.get("Update") or "").strip()
        version = element.get("Version")
        if version is None:
            # MSBuild also allows <PackageVersion Include="x"><Version>1.2.3</Version></PackageVersion>.
            child = next((c for c in element if _local(c.tag) == "Version"), None)
            version = child.text if child is not None else None
        if not name or version is None:
            raise PropsError(f"{where}: <PackageVersion> lacks Include or Version (package '{name}')")
        # NuGet ids are case-insensitive: "Npgsql" and "npgsql" are one package.
        seen = spelled.setdefault(name.lower(), name)
        if seen in versions and versions[seen] != version.strip():
            raise PropsError(
                f"{where}: package '{name}' is listed twice with different versions "
                f"({versions[seen]} and {version.strip()})"
            )
        versions[seen] = version.strip()
    return versions


def read_props(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise PropsError(f"{path}: Directory.Packages.props not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PropsError(f"{path}: cannot read ({exc})") from exc
    return parse_props(text, str(path))
