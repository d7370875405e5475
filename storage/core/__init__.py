"""The ground every context stands on: the database engine and units of work, the clock, settings,
refusals, input bounds, codes, button tokens, conversation state and the audit trail.
Imports no other context."""
