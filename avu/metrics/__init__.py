"""Functional metric kernels on plain numpy arrays, one module per benchmark."""
