"""Where backups (and the erasure journal) are kept: a local folder, or an S3-compatible bucket."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.utils.translation import gettext as _

from .crypto import BackupError


class TargetError(BackupError):
    pass


class LocalTarget:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def __str__(self) -> str:
        return str(self.folder)

    def put(self, name: str, source: BinaryIO) -> None:
        path = self.folder / name
        partial = path.with_name(path.name + ".partial")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(partial, "wb") as out:
                shutil.copyfileobj(source, out, 1024 * 1024)
            partial.replace(path)  # never a half-written file under the final name
        except OSError as error:
            try:
                partial.unlink(missing_ok=True)
            except OSError:
                pass  # the folder itself is what is wrong
            raise TargetError(_("Cannot write to the backup folder %(folder)s: %(error)s") % {"folder": self.folder, "error": error.strerror or error})

    def get(self, name: str, out: BinaryIO) -> None:
        try:
            with open(self.folder / name, "rb") as source:
                shutil.copyfileobj(source, out, 1024 * 1024)
        except FileNotFoundError:
            raise TargetError(_("No backup named %(name)s in %(folder)s.") % {"name": name, "folder": self.folder})
        except OSError as error:
            raise TargetError(_("Cannot read the backup folder %(folder)s: %(error)s") % {"folder": self.folder, "error": error.strerror or error})

    def list(self, prefix: str) -> list[str]:
        folder = self.folder / prefix.rpartition("/")[0] if "/" in prefix else self.folder
        try:
            if not folder.exists():
                return []
            return sorted(
                str(p.relative_to(self.folder)) for p in folder.iterdir()
                if p.is_file() and str(p.relative_to(self.folder)).startswith(prefix) and not p.name.endswith(".partial")
            )
        except OSError as error:
            raise TargetError(_("Cannot read the backup folder %(folder)s: %(error)s") % {"folder": self.folder, "error": error.strerror or error})

    def delete(self, name: str) -> None:
        (self.folder / name).unlink(missing_ok=True)

    def size(self, name: str) -> int:
        return (self.folder / name).stat().st_size


class S3Target:
    """An S3-compatible bucket (AWS, Scaleway, OVH, MinIO…), through boto3 (`pip install boto3`)."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None):
        try:
            import boto3
        except ImportError:
            raise TargetError(_("BACKUP_S3_BUCKET is set but boto3 is not installed (pip install boto3)."))
        self.bucket, self.prefix = bucket, prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def _call(self, method, **kwargs):
        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except Exception as error:  # botocore's errors: unreachable, refused, full
            raise TargetError(_("The backup bucket %(target)s answered: %(error)s") % {"target": self, "error": error})

    def put(self, name: str, source: BinaryIO) -> None:
        try:
            self.client.upload_fileobj(source, self.bucket, self.prefix + name)
        except Exception as error:
            raise TargetError(_("The backup bucket %(target)s answered: %(error)s") % {"target": self, "error": error})

    def get(self, name: str, out: BinaryIO) -> None:
        try:
            self.client.download_fileobj(self.bucket, self.prefix + name, out)
        except Exception as error:
            raise TargetError(_("The backup bucket %(target)s answered: %(error)s") % {"target": self, "error": error})

    def list(self, prefix: str) -> list[str]:
        names, token = [], None
        while True:
            kwargs = {"Prefix": self.prefix + prefix} | ({"ContinuationToken": token} if token else {})
            page = self._call("list_objects_v2", **kwargs)
            names += [item["Key"][len(self.prefix):] for item in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                return sorted(names)
            token = page["NextContinuationToken"]

    def delete(self, name: str) -> None:
        self._call("delete_object", Key=self.prefix + name)

    def size(self, name: str) -> int:
        return self._call("head_object", Key=self.prefix + name)["ContentLength"]


def default_target():
    if settings.BACKUP_S3_BUCKET:
        return S3Target(settings.BACKUP_S3_BUCKET, settings.BACKUP_S3_PREFIX, settings.BACKUP_S3_ENDPOINT_URL)
    return LocalTarget(settings.BACKUP_DIR)
