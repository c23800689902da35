"""Hydra config group (a package so that wheels ship its YAML files)."""
