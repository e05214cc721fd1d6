"""container layers."""
__all__: list = []
