"""Which project owns a definition: the identity stamped on uploads, the same in every clone.

Order: the config's `project:` key; else the repository's origin remote, normalised so
`git@h:org/app.git`, `ssh://git@h:22/org/app` and `https://user:pw@h/org/app/` are one
project (`h/org/app`); else no identity. Never the checkout directory's name: a clone
under another name, or a CI runner's `/builds/ci-runner-42`, is the same project, and two
unrelated repositories both checked out as `app` are not.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from idflow.base.errors import RefusedError, IdflowError

CONFIG = "config key project"
ORIGIN = "git remote origin"
NONE = "none"
# What a plan compares stamps with when there is no identity: no stamp carries it, so nothing is ours.
NOBODY = ""
IDENTITY_HINT = ("set `project:` in config/idflow.yml (`idflow init` writes one), or add an origin remote; "
                 "definitions stamped under an older identity can be taken over with `idflow tasks adopt --from OLD`")


@dataclass(frozen=True)
class ProjectIdentity:
    """The name stamped on what this project uploads, and where it came from (config, Git origin, none)."""

    value: str | None     # None: unknown, so nothing on the server can be proven ours
    source: str           # CONFIG, ORIGIN or NONE

    def to_json(self) -> dict[str, str | None]:
        return {"value": self.value, "source": self.source}


def resolve_identity(configured: str | None, base_dir: Path) -> ProjectIdentity:
    """`project:`, else the origin remote plus where the project sits in the repository
    (`host/org/repo#svc_a` for a config under svc_a/: two projects of one monorepo never share one)."""
    if configured is not None and configured.strip():
        return ProjectIdentity(configured.strip(), CONFIG)
    remote = origin_url(base_dir)
    normalised = normalise_remote(remote, base_dir) if remote else None
    if not normalised:
        return ProjectIdentity(None, NONE)
    where = _git_out(base_dir, "rev-parse", "--show-prefix").rstrip("/")
    return ProjectIdentity(f"{normalised}#{where}" if where else normalised, ORIGIN)


def identity_clashes(identity: ProjectIdentity, base_dir: Path, config_path: str | None) -> list[str]:
    """Other idflow configs in this Git repository that resolve to the same identity (a copied `project:`).
    The project's own `config/idflow.yml` is no other project when a config elsewhere is in use (the
    quickstart's `.idflow/quickstart.yml`, a CI variant): both describe the same tasks.

    Each would take the other's definitions for its own orphans, so every write refuses while any exists."""
    if identity.value is None:
        return []
    top = _git_out(base_dir, "rev-parse", "--show-toplevel")
    if not top:
        return []
    listed = _git_out(Path(top), "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--",
                      ":(glob)**/config/idflow.yml", ":(glob)config/idflow.yml", strip=False)
    own = Path(config_path).resolve() if config_path else (base_dir / "config" / "idflow.yml").resolve()
    clashes = []
    for rel in dict.fromkeys(p for p in listed.split("\0") if p):
        other = (Path(top) / rel).resolve()
        if other == own:
            continue
        project_dir = other.parent.parent
        if project_dir == base_dir.resolve():  # this project's own config, beside the one in use (IDFLOW_CONFIG)
            continue
        if _declared_project(other) == identity.value or (
                identity.source == ORIGIN and _declared_project(other) is None
                and resolve_identity(None, project_dir).value == identity.value):
            clashes.append(rel)
    return clashes


def check_identity_unique(config) -> None:
    """Refuse (exit 3) a write while another config in this repository resolves to the same identity."""
    clashes = identity_clashes(config.identity, Path(config.base_dir), config.path)
    if clashes:
        raise RefusedError(f"project identity {config.identity.value!r} is also the identity of "
                           f"{', '.join(clashes[:5])}: two projects would take each other's definitions for their "
                           "own; nothing was changed",
                           hint="give each config/idflow.yml its own `project:` (or remove the copied one so the "
                                "identity comes from the origin remote and the config's place in the repository)")


def _declared_project(config_file: Path) -> str | None:
    """The `project:` of another config, read leniently: a file that cannot be read declares none."""
    from idflow.project.config_yaml import read_yaml  # not at import: `doctor` imports this module at every start

    try:
        data = read_yaml(config_file).data
    except IdflowError:  # another project's broken config is that project's problem, not a clash
        return None
    value = data.get("project") if isinstance(data, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _git_out(cwd: Path, *args: str, strip: bool = True) -> str:
    try:
        answer = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10,
                                stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    if answer.returncode != 0:
        return ""
    return answer.stdout.strip() if strip else answer.stdout


def require_identity(identity: ProjectIdentity, what: str) -> str:
    """The identity, or a refusal (exit 3): deciding what is ours to delete needs one."""
    if identity.value is None:
        raise RefusedError(f"{what} needs a project identity to tell this project's definitions from others', "
                           "and there is none (no `project:` in the config, no origin remote); nothing was changed",
                           hint=IDENTITY_HINT)
    return identity.value


def origin_url(base_dir: Path) -> str | None:
    """The origin remote's URL as Git resolves it (insteadOf applied), or None."""
    try:
        answer = subprocess.run(["git", "remote", "get-url", "origin"], cwd=base_dir, capture_output=True,
                                text=True, timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (answer.stdout.strip() or None) if answer.returncode == 0 else None


def normalise_remote(url: str, base_dir: Path | None = None) -> str | None:
    """`host/path` without scheme, credentials, port, trailing `/` or `.git`; a local
    repository is its absolute path (which starts with `/`, so it never equals a host form)."""
    url = url.strip()
    if not url:
        return None
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme == "file":
            return _local(parts.path, base_dir)
        host, path = (parts.hostname or "").lower(), parts.path
    elif _scp_like(url):
        authority, path = url.split(":", 1)
        host = authority.rsplit("@", 1)[-1].lower()
    else:
        return _local(url, base_dir)
    path = _strip(path).lstrip("/")
    return f"{host}/{path}" if host and path else None


def _scp_like(url: str) -> bool:
    """Git's `[user@]host:path`: a colon before any slash (and not a Windows drive letter)."""
    head = url.split("/", 1)[0]
    return ":" in head and len(head.split(":", 1)[0]) > 1


def _local(path: str, base_dir: Path | None) -> str | None:
    if not path:
        return None
    local = Path(path).expanduser()
    if not local.is_absolute():
        local = (base_dir or Path.cwd()) / local
    return _strip(local.resolve().as_posix()) or None


def _strip(path: str) -> str:
    path = path.rstrip("/")
    return path[: -len(".git")].rstrip("/") if path.endswith(".git") else path
