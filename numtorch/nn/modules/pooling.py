"""pooling layers."""
__all__: list = []
