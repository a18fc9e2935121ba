"""Inspections pages."""
