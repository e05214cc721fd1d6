"""linear layers."""
__all__: list = []
