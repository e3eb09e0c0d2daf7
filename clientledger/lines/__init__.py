"""The priced line that deals and documents share, and the money engine."""
