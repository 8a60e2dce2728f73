"""Ingest: sources -> pages -> chunks -> the store."""
