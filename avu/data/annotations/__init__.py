"""Readers of each benchmark's official annotation files (real and generated alike)."""
