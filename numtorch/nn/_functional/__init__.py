"""Implementations behind ``numtorch.nn.functional``, one file per family of layers."""
