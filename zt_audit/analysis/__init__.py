"""Analyses over an inventory that several checks share (images, RBAC, policies, mesh)."""
