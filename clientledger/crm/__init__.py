"""Clients, contacts and deals."""
