"""YAML documents embedded in ConfigMaps (kubeadm-config, aws-auth, kubelet-config).

They are untrusted text parsed after the loader's own defences, so they get their own:
a size limit, no aliases (real configurations never use them, and alias bombs do), and
nesting errors caught.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_EMBEDDED_CHARS = 1_000_000


def load_embedded_yaml(text: str) -> Any:
    """The parsed document, or None when it is too large, uses aliases or is invalid."""
    if len(text) > MAX_EMBEDDED_CHARS:
        return None
    try:
        for token in yaml.scan(text, Loader=yaml.CSafeLoader):
            if isinstance(token, yaml.AliasToken):
                return None
        return yaml.load(text, Loader=yaml.CSafeLoader)
    except (yaml.YAMLError, RecursionError):
        return None
