from .manifest import manifest

__all__ = ["manifest"]
