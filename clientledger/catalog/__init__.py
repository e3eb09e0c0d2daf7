"""The agency's services and tax rates."""
