"""dropout layers."""
__all__: list = []
