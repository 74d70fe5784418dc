"""Loading the enforcement documents' settings (documents.yaml): bureau name, number prefixes."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from config.policy_files import load_yaml

DOCUMENT_KINDS = (
    "inspection_record",
    "rectification_order",
    "reinspection_opinion",
    "no_penalty_decision",
    "measure",
    "rectify_notice",
    "education_notice",
    "interview_notice",
    "interview_record",
    "warning_notice",
)


class DocumentPrefixes(BaseModel):
    """The number prefix of each document kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    inspection_record: str = Field(min_length=2, max_length=20)
    rectification_order: str = Field(min_length=2, max_length=20)
    reinspection_opinion: str = Field(min_length=2, max_length=20)
    no_penalty_decision: str = Field(min_length=2, max_length=20)
    measure: str = Field(min_length=2, max_length=20)
    rectify_notice: str = Field(min_length=2, max_length=20)
    education_notice: str = Field(min_length=2, max_length=20)
    interview_notice: str = Field(min_length=2, max_length=20)
    interview_record: str = Field(min_length=2, max_length=20)
    warning_notice: str = Field(min_length=2, max_length=20)


class DocumentSettings(BaseModel):
    """documents.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: Literal[1]
    bureau: str = Field(min_length=4, max_length=60)
    prefixes: DocumentPrefixes

    def prefix(self, kind: str) -> str:
        """The number prefix of a document kind."""
        return str(getattr(self.prefixes, kind))


def load_documents(policy_dir: Path) -> DocumentSettings:
    """The enforcement documents' settings."""
    return load_yaml(policy_dir / "documents.yaml", DocumentSettings)
