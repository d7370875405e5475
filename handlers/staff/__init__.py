"""Handlers for the staff group. Every command here passes the staff gate (handlers.authority) first."""
