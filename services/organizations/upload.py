"""The bytes of a spreadsheet forwarded by the gateway (base64), refused clearly when unusable."""
from __future__ import annotations

import base64
import binascii
import hashlib

from shared.errors import invalid
from shared.ids import stable_id
from services.organizations.contracts import UploadedFile


def file_content(upload: UploadedFile) -> bytes:
    try:
        content = base64.b64decode(upload.content_b64 or "", validate=True)
    except (binascii.Error, ValueError):
        raise invalid("invalid_file", "file", "文件内容无法解码 / file content is not valid base64") from None
    if not content:
        raise invalid("empty_file", "file", "文件为空 / the file is empty")
    return content


def import_id(county: str, content: bytes) -> str:
    """The same file imported again has the same import id (an interrupted run is resumed, not repeated)."""
    return stable_id("import", county, hashlib.sha256(content).hexdigest())
