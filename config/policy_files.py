"""Reading one policy YAML file into its strict pydantic model."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from domain.errors import ConfigurationError

M = TypeVar("M", bound=BaseModel)


def load_yaml(path: Path, model: type[M]) -> M:
    """Read and validate one policy file; ConfigurationError names the file and the problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return model.model_validate(data)
    except FileNotFoundError as exc:
        raise ConfigurationError(f"policy file {path} is missing") from exc
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"policy file {path} is not valid YAML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(f"policy file {path}: {problems}") from exc
