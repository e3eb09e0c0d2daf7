"""Agencies, their people and roles, sign-in and API tokens."""
