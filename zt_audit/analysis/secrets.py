"""Credential detection in literal values, by key name and by value shape.

Nothing here returns, keeps or logs a value: callers get the key that holds a credential
and the kind of credential it looks like, never the text, a prefix or a hash of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Key names that say "this is a credential".
_CREDENTIAL_NAME = re.compile(
    r"(pass(word|wd|phrase)?|pwd|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key"
    r"|credential|client[_.-]?secret|auth[_.-]?key|signing[_.-]?key|encryption[_.-]?key"
    r"|session[_.-]?key|connection[_.-]?string|conn[_.-]?str|dsn)",
    re.IGNORECASE,
)
# Key names that mention a credential but hold something else: where it is, how it is
# named, or a setting about it.
_NOT_A_VALUE = re.compile(
    r"([_.-]?(file|path|dir|url|uri|endpoint|host|port|name|user(name)?|id|enabled|disabled"
    r"|ttl|timeout|expiry|expires|expiration|length|size|type|mode|header|version|policy"
    r"|format|issuer|audience|ref|secret[_.-]?name|mount|location|provider|rotation))$",
    re.IGNORECASE,
)
# Values that are references or placeholders, not literals.
_PLACEHOLDER = re.compile(
    r"^(\$\(.+\)|\$\{.+\}|\{\{.+\}\}|<.+>|%.+%|\*+|x+|changeit-placeholder|redacted"
    r"|true|false|yes|no|on|off|null|none|-?\d+(\.\d+)?[smhd]?|/[^\s]*)$",
    re.IGNORECASE,
)
# Value shapes that are credentials whatever their key is called.
SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a private key", re.compile(r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----")),
    ("an AWS access key ID", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_\w{22,})")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Slack webhook URL", re.compile(r"hooks\.slack\.com/services/T\w+/B\w+/\w+")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a Stripe live key", re.compile(r"\b[sr]k_live_[0-9a-zA-Z]{16,}")),
    (
        "a JSON Web Token",
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ),
    (
        "a URL with an embedded password",
        re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@$]+:[^/\s@$({]+@[^\s/]+", re.IGNORECASE),
    ),
)
# ``key = value`` or ``key: value`` lines inside a configuration file held in a value.
_ASSIGNMENT = re.compile(r"^\s*[\"']?([A-Za-z0-9_.\-]+)[\"']?\s*[:=]\s*(.+?)\s*,?\s*$")


@dataclass(frozen=True, slots=True)
class Detection:
    """A credential found under ``key`` (and ``inner`` key of an embedded file), by kind."""

    key: str
    kind: str  # "a password-like literal (by its name)", "an AWS access key ID", ...
    inner: str | None = None

    def describe(self) -> str:
        where = f"{self.key} (line setting {self.inner})" if self.inner else self.key
        return f"{where} holds {self.kind}"


# Names that contain a credential word but are identifiers (etcd's cluster token only
# keeps two bootstrapping clusters apart).
_IDENTIFIERS = re.compile(r"initial[_.-]?cluster[_.-]?token|token[_.-]?(audience|type)s?$", re.I)


def credential_name(key: str) -> bool:
    if _IDENTIFIERS.search(key):
        return False
    return bool(_CREDENTIAL_NAME.search(key)) and not _NOT_A_VALUE.search(key)


# ``GOOGLE_API_KEY_VAL``, ``CHANGE_ME``: template placeholders that a pipeline substitutes.
_CONSTANT_NAME = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")


def literal(value: str) -> bool:
    """Whether a value is a real literal rather than a reference or a placeholder."""
    text = value.strip().strip("\"'")
    if len(text) < 4 or _CONSTANT_NAME.match(text):
        return False
    return not _PLACEHOLDER.match(text)


def shape_of(value: str) -> str | None:
    for kind, pattern in SHAPES:
        if pattern.search(value):
            return kind
    return None


def detect(key: str, value: object) -> Iterator[Detection]:
    """Credentials in one key/value pair, including lines of an embedded config file."""
    if not isinstance(value, str) or not value.strip():
        return
    shape = shape_of(value)
    if shape is not None:
        yield Detection(key, shape)
        return
    if "\n" not in value.strip() and credential_name(key) and literal(value):
        yield Detection(key, "a literal credential (by its name)")
        return
    for line in value.splitlines():
        match = _ASSIGNMENT.match(line)
        if match and credential_name(match.group(1)) and literal(match.group(2)):
            yield Detection(key, "a literal credential (by its name)", inner=match.group(1))
            return
