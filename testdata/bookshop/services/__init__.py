"""Query and domain helpers. Every helper takes the caller's session."""
