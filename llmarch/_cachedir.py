"""Where llmarch keeps its caches (the price-catalog lookups, compiled models): one rule for
every platform. A leaf module."""

from __future__ import annotations

from typing import Optional

__all__ = ["cache_folder", "home"]


def home():
    """The user's home folder, or None when it cannot be told."""
    from pathlib import Path
    try:
        return Path.home()
    except (RuntimeError, KeyError, OSError):
        return None


def cache_folder(environ=None, platform: Optional[str] = None, home=home):
    """The folder of the lookup cache, or None for no cache. In order of precedence:

    1. `LLMARCH_NO_CACHE` set and not empty: no cache;
    2. `LLMARCH_CACHE_DIR` set and not empty: that folder (as given, relative or not);
    3. the platform's cache folder: on Windows `%LOCALAPPDATA%\\llmarch\\Cache` (else
       `~\\AppData\\Local\\llmarch\\Cache`), on macOS `~/Library/Caches/llmarch`,
       elsewhere (Linux, the BSDs) `$XDG_CACHE_HOME/llmarch` when that is an absolute path
       (the XDG Base Directory rule: a relative one is ignored), else `~/.cache/llmarch`.

    A platform folder needs an absolute one to start from: without a home folder (or with
    a relative `HOME`) there is no cache rather than one in the working directory.
    `environ`, `platform` (`sys.platform`) and `home` (a function giving the home folder)
    are there for the tests."""
    import os
    import sys
    from pathlib import Path

    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if environ.get("LLMARCH_NO_CACHE"):
        return None
    if environ.get("LLMARCH_CACHE_DIR"):
        return Path(environ["LLMARCH_CACHE_DIR"])

    def absolute(text):
        return Path(text) if text and Path(text).is_absolute() else None

    if platform == "win32":
        local = absolute(environ.get("LOCALAPPDATA"))
        if local is not None:
            return local / "llmarch" / "Cache"
    elif platform != "darwin":
        xdg = absolute(environ.get("XDG_CACHE_HOME"))
        if xdg is not None:
            return xdg / "llmarch"
    folder = home()
    if folder is None or not folder.is_absolute():
        return None
    if platform == "win32":
        return folder / "AppData" / "Local" / "llmarch" / "Cache"
    if platform == "darwin":
        return folder / "Library" / "Caches" / "llmarch"
    return folder / ".cache" / "llmarch"
