"""Files that come with a message (an email's attachments, an agent's reply files)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from contactcenter.crm.models import Attachment, Message


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    data: bytes


class Upload(Protocol):
    """A file as a web form delivers it (Django's UploadedFile), not read yet."""

    name: str | None
    content_type: str | None
    size: int

    def read(self) -> bytes: ...


def read_uploads(uploads: list[Upload]) -> tuple[InboundAttachment, ...]:
    return tuple(
        InboundAttachment(
            filename=upload.name or "file",
            content_type=upload.content_type or "application/octet-stream",
            data=upload.read(),
        )
        for upload in uploads
    )


def store_files(
    message: Message, attachments: tuple[InboundAttachment, ...], stored_files: list[str]
) -> list[Attachment]:
    """Save files with a message; their storage names go to ``stored_files`` for clean-up."""
    saved = []
    for attachment in attachments:
        stored = Attachment(
            message=message,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=len(attachment.data),
        )
        stored.file.save(attachment.filename, ContentFile(attachment.data), save=False)
        stored_files.append(stored.file.name)
        stored.save()
        saved.append(stored)
    return saved


def discard_files(names: list[str]) -> None:
    """Files written for rows that were rolled back."""
    for name in names:
        default_storage.delete(name)
