"""Evaluation building blocks: QA files in, per-question metrics and their aggregates out."""
