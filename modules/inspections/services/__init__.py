"""Inspections services: corrective actions, scheduled rounds, findings, the dashboard."""
