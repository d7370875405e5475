"""Handlers for the staff group. Every command here passes the staff gate (the Registry in handlers.authority) first."""
