"""Where the CLI finds its access key, endpoint and CA: flags, environment, named profiles.

In order, the first that applies:

1. ``--credentials FILE``: a server's ``admin-credentials.json``, or a profiles file;
2. ``OPENASSIST_ACCESS_KEY_ID`` and ``OPENASSIST_ACCESS_KEY_SECRET`` in the environment;
3. a profile named by ``--profile`` or ``OPENASSIST_PROFILE`` in the profiles file;
4. the local server's ``admin-credentials.json`` (``OPENASSIST_DATA_DIR``, else ``.openassist``),
   when there is one: the quick start works from its directory;
5. the ``default`` profile of the profiles file, so the CLI works from any directory.

The profiles file is ``$XDG_CONFIG_HOME/openassist/credentials`` (``~/.config/...``), INI with
one section per profile: ``access_key_id``, ``access_key_secret``, ``endpoint``
(``https://host:8640``), ``region_id`` and ``ca_file``. ``--endpoint`` and ``--ca`` (or
``OPENASSIST_ENDPOINT`` and ``OPENASSIST_CA``) override what was found.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from openassist.cli.api_client import Credentials
from openassist.cli.documents import loads

TYPE_CHECKING = False  # nor pathlib at run time: with what it loads, a tenth of a short command
if TYPE_CHECKING:
    FilePath = str | os.PathLike[str]

DEFAULT_PROFILE = "default"
SERVER_CREDENTIALS = "admin-credentials.json"
_KEYS = ("access_key_id", "access_key_secret", "endpoint", "region_id", "ca_file")


class CredentialsNotFound(Exception):
    """No credentials where the CLI looked; the message says where that was."""


class Choice:
    """What the command line said about credentials (all optional)."""

    __slots__ = ("ca_file", "credentials_file", "endpoint", "profile")

    def __init__(
        self, credentials_file: str = "", profile: str = "", endpoint: str = "", ca_file: str = ""
    ) -> None:
        self.credentials_file, self.profile = credentials_file, profile
        self.endpoint, self.ca_file = endpoint, ca_file


def profiles_file(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "openassist", "credentials")


def resolve(choice: Choice, environ: Mapping[str, str] | None = None) -> Credentials:
    """The credentials to use; raises CredentialsNotFound naming the places it looked."""
    environ = os.environ if environ is None else environ
    profile = choice.profile or environ.get("OPENASSIST_PROFILE", "")
    found = _find(choice, profile, environ)
    endpoint = choice.endpoint or environ.get("OPENASSIST_ENDPOINT", "") or found.endpoint
    ca_file = choice.ca_file or environ.get("OPENASSIST_CA", "") or found.ca_file
    return found._replace(endpoint=endpoint, ca_file=ca_file)


def _find(choice: Choice, profile: str, environ: Mapping[str, str]) -> Credentials:
    if choice.credentials_file:
        return read_file(choice.credentials_file, profile or DEFAULT_PROFILE)
    key_id, secret = (
        environ.get("OPENASSIST_ACCESS_KEY_ID"),
        environ.get("OPENASSIST_ACCESS_KEY_SECRET"),
    )
    if key_id and secret:
        return Credentials(
            key_id,
            secret,
            environ.get("OPENASSIST_ENDPOINT", "127.0.0.1:8640"),
            environ.get("OPENASSIST_REGION", "local"),
            source="the environment (OPENASSIST_ACCESS_KEY_ID)",
        )
    profiles = profiles_file(environ)
    if profile:
        return read_file(profiles, profile)
    local = os.path.join(environ.get("OPENASSIST_DATA_DIR", ".openassist"), SERVER_CREDENTIALS)
    if os.path.isfile(local):
        return read_file(local, DEFAULT_PROFILE)
    if os.path.isfile(profiles):
        return read_file(profiles, DEFAULT_PROFILE)
    raise CredentialsNotFound(
        f"no credentials: none in the environment, no {local} here and no {profiles}; "
        "pass --credentials FILE or --profile NAME, or save a profile with `openassist configure`"
    )


def read_file(path: FilePath, profile: str = DEFAULT_PROFILE) -> Credentials:
    """A server's JSON credentials file, or ``profile`` of an INI profiles file."""
    path = os.fspath(path)
    try:
        with open(path) as handle:
            text = handle.read()
    except OSError as error:
        raise CredentialsNotFound(f"cannot read credentials file {path}: {error}") from None
    if text.lstrip().startswith("{"):
        try:
            document = loads(text)
            return Credentials(
                document["AccessKeyId"],
                document["AccessKeySecret"],
                document.get("Endpoint", "127.0.0.1:8640"),
                document.get("RegionId", "local"),
                ca_file=document.get("CaFile", ""),
                source=path,
            )
        except (ValueError, KeyError) as error:
            raise CredentialsNotFound(f"{path} is not a credentials file: {error}") from None
    import configparser  # profiles only: a tenth of the CLI's own imports, for a JSON file unused

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as error:
        raise CredentialsNotFound(f"{path} is not a profiles file: {error}") from None
    if not parser.has_section(profile):
        names = ", ".join(parser.sections()) or "none"
        raise CredentialsNotFound(
            f"no profile {profile!r} in {path} (profiles: {names}); save one with "
            "`openassist configure --from FILE --profile NAME`"
        )
    section = parser[profile]
    missing = [key for key in ("access_key_id", "access_key_secret") if not section.get(key)]
    if missing:
        raise CredentialsNotFound(f"profile {profile!r} in {path} lacks {', '.join(missing)}")
    return Credentials(
        section["access_key_id"],
        section["access_key_secret"],
        section.get("endpoint", "127.0.0.1:8640"),
        section.get("region_id", "local"),
        ca_file=section.get("ca_file", ""),
        source=f"{path} [{profile}]",
    )


def save_profile(file: FilePath, profile: str, credentials: Credentials) -> None:
    """Write ``profile`` into the profiles file (created owner-only, in an owner-only
    directory), keeping the other profiles; replaced atomically."""
    import configparser
    from pathlib import Path

    path = Path(file)

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    parser = configparser.ConfigParser(interpolation=None)
    if path.is_file():
        parser.read(path)
    values = {
        "access_key_id": credentials.access_key_id,
        "access_key_secret": credentials.access_key_secret,
        "endpoint": credentials.endpoint,
        "region_id": credentials.region_id,
        "ca_file": credentials.ca_file,
    }
    parser[profile] = {key: values[key] for key in _KEYS if values[key]}
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as handle:
        parser.write(handle)
    os.replace(temporary, path)
