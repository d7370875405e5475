"""Who the customers and staff are and how to reach them: profiles, consent, time zones, birthdays,
staff roles, and the outbox every message to a person goes through. Imports core only."""
