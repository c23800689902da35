"""Hydra configuration tree of avu training (see docs/training.md)."""
