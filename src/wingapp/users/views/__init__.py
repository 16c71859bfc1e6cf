"""Account views, one module a flow."""
