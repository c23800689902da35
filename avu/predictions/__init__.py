"""Reading and validating prediction files (formats: docs/predictions.md)."""
