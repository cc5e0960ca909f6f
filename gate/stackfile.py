"""Read and update ``Pulumi.<stack>.yaml`` without losing comments, ordering or other keys."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from gate.config import GateEvidence, GateModel, ReleaseConfig

PROJECT = "meajudaai-infra"
RELEASE_KEY = f"{PROJECT}:release"
EVIDENCE_KEY = f"{PROJECT}:gateEvidence"
ENVIRONMENT_KEY = f"{PROJECT}:environment"
API_KEY = f"{PROJECT}:api"
_M = TypeVar("_M", bound=GateModel)


class StackFileError(ValueError):
    """The stack file or one of its gate keys is unusable; the message names file and key."""


def _yaml() -> YAML:
    yaml = YAML()  # round-trip mode keeps comments and key order
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never re-wrap long comment-free scalars
    return yaml


def _format_errors(exc: ValidationError, key: str) -> str:
    lines = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"  {key}{'.' + path if path else ''}: {message}")
    return "\n".join(lines)


@dataclass
class StackFile:
    path: Path
    document: CommentedMap

    @property
    def stack(self) -> str:
        return self.path.name.removeprefix("Pulumi.").removesuffix(".yaml")

    @property
    def config(self) -> CommentedMap:
        config = self.document.get("config")
        if not isinstance(config, CommentedMap):
            raise StackFileError(f"{self.path}: no 'config' mapping")
        return config

    def environment(self) -> str:
        value = self.config.get(ENVIRONMENT_KEY, self.stack)
        return str(value)

    def api_stopped(self) -> bool:
        """Whether the stack file stops the API (`meajudaai-infra:api` -> `stopped: true`)."""
        api = self.config.get(API_KEY)
        return isinstance(api, dict) and api.get("stopped") is True

    def _validated(self, key: str, model: type[_M]) -> _M | None:
        raw = self.config.get(key)
        if raw is None:
            return None
        try:
            return model.model_validate(_plain(raw))
        except ValidationError as exc:
            raise StackFileError(f"{self.path}: invalid '{key}':\n{_format_errors(exc, key)}") from exc

    def release(self) -> ReleaseConfig:
        release = self._validated(RELEASE_KEY, ReleaseConfig)
        if release is None:
            raise StackFileError(f"{self.path}: '{RELEASE_KEY}' is not set")
        return release

    def evidence(self) -> GateEvidence | None:
        return self._validated(EVIDENCE_KEY, GateEvidence)

    def set_evidence(self, key: str, record: GateModel) -> None:
        config = self.config
        evidence = config.get(EVIDENCE_KEY)
        if evidence is None:
            evidence = CommentedMap()
            config[EVIDENCE_KEY] = evidence
        elif not isinstance(evidence, CommentedMap):
            raise StackFileError(f"{self.path}: '{EVIDENCE_KEY}' is not a mapping")
        evidence[key] = _quoted(record.to_config())

    def save(self) -> None:
        # Write next to the target and rename, so an interrupted write never leaves half a stack file.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                _yaml().dump(self.document, handle)
            Path(tmp).replace(self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _quoted(value: Any) -> Any:
    # Strings are double-quoted so YAML 1.1 readers never turn a timestamp or "1.20" into another type.
    if isinstance(value, dict):
        node = CommentedMap()
        for k, v in value.items():
            node[k] = _quoted(v)
        return node
    if isinstance(value, list):
        return [_quoted(v) for v in value]
    if isinstance(value, str):
        return DoubleQuotedScalarString(value)
    return value


def stack_path(stack: str, project_dir: Path) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def load(path: Path) -> StackFile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise StackFileError(f"{path}: stack file not found") from exc
    except OSError as exc:
        raise StackFileError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        document = _yaml().load(text)
    except YAMLError as exc:
        raise StackFileError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(document, CommentedMap):
        raise StackFileError(f"{path}: expected a mapping with a 'config' key")
    return StackFile(path, document)
