"""Persistence and business rules: models, migrations and one module per aggregate.

Imports nothing of ours above it and nothing of telegram (DESIGN.md).
"""
