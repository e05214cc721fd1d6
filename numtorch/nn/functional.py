"""Functional forms of the layers and losses."""
