"""loss layers."""
__all__: list = []
