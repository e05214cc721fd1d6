"""sparse layers."""
__all__: list = []
