"""Admission control as the cluster enforces it: webhooks and image policy engines."""
