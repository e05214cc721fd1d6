"""module layers."""
__all__: list = []
