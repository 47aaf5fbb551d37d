"""Where attachment bytes live, behind one small interface: a directory (the default, one machine) or an
S3-compatible object store (several app nodes). Both are content-addressed by SHA-256, so a file
uploaded twice is stored once; both take a finished temporary file and stream it out in chunks.

Chosen by ATTACHMENTS_STORE ("filesystem" or "s3"); the S3 keys are ATTACHMENTS_S3_* (config.toml)."""

import contextlib
import os
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import aiofiles
import aiofiles.os

CHUNK = 256 * 1024  # bytes read or sent at a time: what a transfer holds in memory
S3_PART = 8 * 1024 * 1024  # one part of a multipart upload (S3's smallest is 5 MiB)


class BlobStore(Protocol):
    """Bytes by their SHA-256 hex digest."""

    tmp_dir: Path  # where uploads are spooled before `put`

    async def put(self, digest: str, path: Path) -> None:
        """Keep the file at `path` (a temporary file, consumed) under `digest`; a no-op when present."""

    def chunks(self, digest: str) -> AsyncIterator[bytes]:
        """The stored bytes, CHUNK at a time."""

    async def read(self, digest: str) -> bytes:
        """The stored bytes at once (for small files only: an email's attachments)."""


class FileStore:
    """`<root>/ab/cd/<digest>`; written to a temporary file in the same file system, then renamed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp_dir = root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4] / digest

    async def put(self, digest: str, path: Path) -> None:
        target = self.path(digest)
        if await aiofiles.os.path.exists(target):
            await aiofiles.os.remove(path)
            return
        await aiofiles.os.makedirs(target.parent, exist_ok=True)
        await aiofiles.os.replace(path, target)  # atomic: a reader sees the whole file or none

    async def chunks(self, digest: str) -> AsyncIterator[bytes]:
        async with aiofiles.open(self.path(digest), "rb") as handle:
            while chunk := await handle.read(CHUNK):
                yield chunk

    async def read(self, digest: str) -> bytes:
        async with aiofiles.open(self.path(digest), "rb") as handle:
            return await handle.read()


class S3Store:
    """Objects `<prefix><digest>` in one bucket of any S3-compatible store (aiobotocore)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        from aiobotocore.session import get_session

        self.bucket = config["ATTACHMENTS_S3_BUCKET"]
        self.prefix = config.get("ATTACHMENTS_S3_PREFIX", "")
        self.tmp_dir = Path(config["ATTACHMENTS_DIR"]) / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self._session = get_session()
        self._client = {
            "service_name": "s3",
            "endpoint_url": config.get("ATTACHMENTS_S3_ENDPOINT_URL") or None,
            "region_name": config.get("ATTACHMENTS_S3_REGION") or None,
            "aws_access_key_id": config.get("ATTACHMENTS_S3_ACCESS_KEY_ID") or None,
            "aws_secret_access_key": config.get("ATTACHMENTS_S3_SECRET_ACCESS_KEY") or None,
        }

    def client(self) -> Any:
        return self._session.create_client(**self._client)

    async def put(self, digest: str, path: Path) -> None:
        key = self.prefix + digest
        try:
            async with self.client() as s3:
                if not await _exists(s3, self.bucket, key):
                    await _upload(s3, self.bucket, key, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    async def chunks(self, digest: str) -> AsyncIterator[bytes]:
        async with self.client() as s3:
            response = await s3.get_object(Bucket=self.bucket, Key=self.prefix + digest)
            async with response["Body"] as body:
                while chunk := await body.read(CHUNK):
                    yield chunk

    async def read(self, digest: str) -> bytes:
        return b"".join([chunk async for chunk in self.chunks(digest)])


async def _exists(s3: Any, bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        await s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return False
        raise
    return True


async def _upload(s3: Any, bucket: str, key: str, path: Path) -> None:
    """One PUT for a small file; a multipart upload, S3_PART at a time, for a large one."""
    async with aiofiles.open(path, "rb") as handle:
        first = await handle.read(S3_PART)
        if len(first) < S3_PART:
            await s3.put_object(Bucket=bucket, Key=key, Body=first)
            return
        upload = await s3.create_multipart_upload(Bucket=bucket, Key=key)
        parts, number, chunk = [], 1, first
        try:
            while chunk:
                sent = await s3.upload_part(
                    Bucket=bucket, Key=key, UploadId=upload["UploadId"], PartNumber=number, Body=chunk
                )
                parts.append({"ETag": sent["ETag"], "PartNumber": number})
                number, chunk = number + 1, await handle.read(S3_PART)
        except BaseException:
            await s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])
            raise
        await s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
        )


def from_config(config: Mapping[str, Any]) -> BlobStore:
    """The store ATTACHMENTS_STORE names."""
    kind = config.get("ATTACHMENTS_STORE", "filesystem")
    if kind == "s3":
        return S3Store(config)
    if kind == "filesystem":
        return FileStore(Path(config.get("ATTACHMENTS_DIR", "var/attachments")))
    raise ValueError(f"ATTACHMENTS_STORE must be filesystem or s3, got {kind!r}")
