"""Data: annotation readers, manifests, the generated suite and torch datasets."""
