"""transformer layers."""
__all__: list = []
