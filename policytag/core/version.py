"""The kit's version, read from the installed distribution's metadata (written once, in pyproject.toml).

Example:
    >>> from policytag.core.version import __version__
    >>> __version__.count(".") >= 1
    True
"""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("policytag")
except PackageNotFoundError:  # a source tree imported without being installed
    __version__ = "0+unknown"
