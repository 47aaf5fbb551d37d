"""The HTML + htmx interface: one module per screen family."""
