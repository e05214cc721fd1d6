"""flatten layers."""
__all__: list = []
